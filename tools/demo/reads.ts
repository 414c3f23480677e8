import type { CbClient, components } from '@cb/client';
import { describe, problem, problemOf, replyOf } from './gateway';
import { bold, brief, dim, heading, red, table } from './output';
import { writes, type Fixture, type TokenRun } from './run';

/** Reading back what the run wrote: tokens per place, and one token's history. */

type SequencedEvent = components['schemas']['SequencedEvent'];

export async function printStats(
  client: CbClient,
  fixtures: Fixture[],
  runs: TokenRun[],
): Promise<void> {
  heading('Tokens per place');
  console.log(
    dim('  "this run": where the demo left its tokens; "all": GET …/stats?minSeq=<last write>'),
  );
  for (const f of fixtures) {
    const mine = runs.filter((r) => r.workflowId === f.id);
    const lastSeq = Math.max(0, ...writes.filter((w) => w.workflowId === f.id).map((w) => w.seq));
    const path = `/v1/workflows/${f.id}/stats${lastSeq > 0 ? `?minSeq=${lastSeq}` : ''}`;
    const res = await client.GET('/v1/workflows/{workflowId}/stats', {
      params: { path: { workflowId: f.id }, query: lastSeq > 0 ? { minSeq: lastSeq } : {} },
    });
    if (!res.data) {
      const code = problemOf(res)?.code ?? '';
      console.log(`\n  ${bold(f.id)}  ${red(`${res.response.status} ${code}`)}`);
      problem(`stats of ${f.id} failed`, describe('GET', path), replyOf(res));
      continue;
    }
    const s = res.data;
    console.log(
      `\n  ${bold(f.id)}  ${dim(
        `${s.totalTokens} live tokens, ${s.transitionsFired} transitions fired, ${s.completed} completed`,
      )}`,
    );
    const places = [...f.places, ...Object.keys(s.places).filter((p) => !f.places.includes(p))];
    const widest = Math.max(1, ...Object.values(s.places));
    const rows = places.map((place) => {
      const here = mine.filter((r) => r.place === place).length;
      const all = s.places[place] ?? 0;
      const bar = '█'.repeat(Math.round((all / widest) * 24)) || (all > 0 ? '▏' : '');
      return [place, String(here), String(all), dim(bar)];
    });
    table(['place', '>this run', '>all', ''], rows, '    ');
    for (const place of places) {
      const here = mine.filter((r) => r.place === place).length;
      const all = s.places[place] ?? 0;
      if (all < here) {
        problem(
          `stats of ${f.id} do not reflect this run's writes: place ${place} counts ${all}, this run alone left ${here} tokens there`,
          describe('GET', path),
          replyOf(res),
        );
      }
    }
    if (s.totalTokens < mine.length) {
      problem(
        `stats of ${f.id} count ${s.totalTokens} live tokens, this run alone created ${mine.length}`,
        describe('GET', path),
        replyOf(res),
      );
    }
  }
}

export function describeEvent(e: SequencedEvent['event']): { change: string; detail: string } {
  switch (e.type) {
    case 'token.created.v1':
      return { change: `→ ${e.place}`, detail: brief(e.state.data, 50) };
    case 'token.transitioned.v1': {
      const patch = { ...(e.dataPatch ? { data: e.dataPatch } : {}) };
      if (e.metadataPatch) Object.assign(patch, { metadata: e.metadataPatch });
      return {
        change: `${e.from} → ${e.to}`,
        detail: `${e.transition}${Object.keys(patch).length ? ` ${brief(patch, 50)}` : ''}`,
      };
    }
    case 'token.updated.v1':
      return {
        change: `(${e.state.place})`,
        detail: `patch ${brief({ data: e.dataPatch, metadata: e.metadataPatch }, 50)}`,
      };
    case 'token.deleted.v1':
      return { change: `${e.place} →`, detail: 'deleted' };
  }
}

export async function printHistory(client: CbClient, run: TokenRun): Promise<void> {
  heading(`History of ${run.tokenId} (${run.workflowId})`);
  const path = `/v1/workflows/${run.workflowId}/tokens/${run.tokenId}/history`;
  const res = await client.GET('/v1/workflows/{workflowId}/tokens/{tokenId}/history', {
    params: { path: { workflowId: run.workflowId, tokenId: run.tokenId } },
  });
  if (!res.data) {
    console.log(`  ${red(`${res.response.status} ${problemOf(res)?.code ?? ''}`)}`);
    problem('history failed', describe('GET', path), replyOf(res));
    return;
  }
  const items = res.data.items;
  table(
    ['>seq', 'at', 'event', 'change', 'detail'],
    items.map(({ seq, event }) => {
      const { change, detail } = describeEvent(event);
      return [String(seq), event.occurredAt.slice(11, 23), event.type, change, detail];
    }),
  );
  console.log(dim('  refused fires (422) leave no event: the guard table above lists them'));
  const seqs = items.map((i) => i.seq);
  if (seqs.join(',') !== run.versions.join(',')) {
    problem(
      `history of ${run.tokenId} does not list its writes: expected seqs ${run.versions.join(', ')}, got ${seqs.join(', ')}`,
      describe('GET', path),
      replyOf(res),
    );
  }
}
