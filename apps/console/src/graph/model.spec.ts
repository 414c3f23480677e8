import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { graphModelOf, isGuarded } from './model';
import { layoutGraph } from './layout';

const def = {
  places: ['draft', 'review', 'published', 'archived', 'orphan', 'stuck'],
  initialPlace: 'draft',
  finalPlaces: ['archived'],
  transitions: [
    { id: 'submit', from: ['draft'], to: 'review', guard: { required: ['data'] } },
    { id: 'publish', from: ['review'], to: 'published', after: 'PT1H' },
    { id: 'schedule', from: ['review'], to: 'published', at: '/data/publishAt', guard: true },
    { id: 'archive', from: ['draft', 'published', 'draft'], to: 'archived', guard: {} },
    { id: 'park', from: ['review'], to: 'stuck' },
    { id: 'again', from: ['review'], to: 'review' },
  ],
  analysis: { unreachablePlaces: ['orphan'], deadEndPlaces: ['stuck', 'orphan'] },
};

describe('graphModelOf', () => {
  const m = graphModelOf(def);

  it('marks initial, final, unreachable and dead-end places', () => {
    expect(m.places.map((p) => p.id)).toEqual(def.places);
    expect(m.places.find((p) => p.id === 'draft')).toMatchObject({ initial: true, final: false });
    expect(m.places.find((p) => p.id === 'archived')).toMatchObject({
      final: true,
      deadEnd: false,
    });
    expect(m.places.find((p) => p.id === 'orphan')).toMatchObject({
      unreachable: true,
      deadEnd: true,
    });
    expect(m.places.find((p) => p.id === 'stuck')).toMatchObject({
      unreachable: false,
      deadEnd: true,
    });
  });

  it('marks guarded and timed transitions; accept-all guards are not guards', () => {
    const t = Object.fromEntries(m.transitions.map((x) => [x.id, x]));
    expect(t['submit']).toMatchObject({ guarded: true, timer: undefined });
    expect(t['publish']).toMatchObject({ guarded: false, timer: 'after PT1H' });
    expect(t['schedule']).toMatchObject({ guarded: false, timer: 'at /data/publishAt' });
    expect(t['archive']).toMatchObject({ guarded: false, from: ['draft', 'published'] });
    expect(isGuarded(false)).toBe(true);
  });
});

describe('layoutGraph', () => {
  it('places every node and routes an edge per source, self-loops and parallel edges too', () => {
    const l = layoutGraph(graphModelOf(def));
    expect(l.nodes).toHaveLength(6);
    for (const n of l.nodes) {
      expect(Number.isFinite(n.x) && Number.isFinite(n.y)).toBe(true);
      expect(n.x - n.width / 2).toBeGreaterThanOrEqual(0);
      expect(n.x + n.width / 2).toBeLessThanOrEqual(l.width);
    }
    const byId = Object.fromEntries(l.transitions.map((t) => [t.id, t]));
    expect(byId['archive']?.paths.map((p) => p.from)).toEqual(['draft', 'published']);
    expect(byId['again']?.paths).toHaveLength(1);
    for (const t of l.transitions) {
      expect(t.paths.length).toBeGreaterThan(0);
      expect(Number.isFinite(t.label.x) && Number.isFinite(t.label.y)).toBe(true);
    }
  });

  it('lays out every fixture workflow', () => {
    const dir = join(__dirname, '../../../../fixtures/workflows');
    for (const f of ['order-processing.json', 'document-review.json', 'software-deployment.json']) {
      const raw = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Parameters<
        typeof graphModelOf
      >[0];
      const l = layoutGraph(
        graphModelOf({ ...raw, analysis: { unreachablePlaces: [], deadEndPlaces: [] } }),
      );
      expect(l.nodes.length).toBe(raw.places.length);
      expect(l.width).toBeGreaterThan(0);
    }
  });
});
