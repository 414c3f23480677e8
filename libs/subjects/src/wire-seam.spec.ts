import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Naming } from './naming';
import * as wire from './wire';

/**
 * The NATS seam: KV streams (`KV_…`), KV subjects (`$KV.…`) and JetStream API subjects (`$JS.…`)
 * are spelt in libs/subjects (wire.ts, Naming) and libs/nats only. Every other file under apps/
 * and libs/, tests included, calls those.
 */
const ROOT = join(__dirname, '..', '..', '..');
const SPELLING = /\$KV\.|KV_|\$JS\./;
const INSIDE = ['libs/nats/', 'libs/subjects/'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the NATS seam', () => {
  const files = ['apps', 'libs']
    .flatMap((top) => sources(join(ROOT, top)))
    .map((path) => relative(ROOT, path).split('\\').join('/'));

  it('reads the tree', () => {
    expect(files).toContain('libs/subjects/src/wire.ts');
    expect(files.some((f) => f.startsWith('apps/query-gateway/'))).toBe(true);
  });

  it('no file under apps/ or libs/ outside libs/nats and libs/subjects spells KV or JetStream API subjects', () => {
    const offenders = files
      .filter((f) => !INSIDE.some((inside) => f.startsWith(inside)))
      .filter((f) => SPELLING.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('would see the spelling where it is', () => {
    const wire = readFileSync(join(ROOT, 'libs/subjects/src/wire.ts'), 'utf8');
    expect(SPELLING.test(wire)).toBe(true);
  });
});

describe('the wire spelling', () => {
  it('is the one nats-server and nats.js use', () => {
    expect(wire.kvStreamName('cb_tokens_1')).toBe('KV_cb_tokens_1');
    expect(wire.kvSubject('cb_tokens_1', 'default.t1')).toBe('$KV.cb_tokens_1.default.t1');
    expect(wire.kvKeyOf('cb_tokens_1', '$KV.cb_tokens_1.default.t1')).toBe('default.t1');
    expect(wire.kvKeyOf('cb_tokens_1', '$KV.cb_tokens_2.default.t1')).toBeNull();
    expect(wire.jsApiStreamInfo('CB_EVENTS')).toBe('$JS.API.STREAM.INFO.CB_EVENTS');
    expect(wire.jsApiDirectGet('CB_EVENTS')).toBe('$JS.API.DIRECT.GET.CB_EVENTS');
    expect(wire.jsApiDirectGet('CB_EVENTS', 'cb.wf.default.w')).toBe(
      '$JS.API.DIRECT.GET.CB_EVENTS.cb.wf.default.w',
    );
    expect(wire.jsApiConsumerCreate('KV_cb_places_1', '>')).toBe(
      '$JS.API.CONSUMER.CREATE.KV_cb_places_1.>',
    );
    expect(wire.jsApiConsumerDelete('CB_EVENTS', 'c1')).toBe(
      '$JS.API.CONSUMER.DELETE.CB_EVENTS.c1',
    );
    expect(new Naming().kvStreamNamePrefix).toBe('KV_cb_');
  });
});
