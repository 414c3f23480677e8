import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CbClient, components } from '@cb/client';
import { describe, problem, problemOf, replyOf } from './gateway';
import { green, heading, red, table, yellow } from './output';
import type { Plan } from './plans';

/** Writing: define the fixture workflows and walk tokens through them, recording what happened. */

const FIXTURES_DIR = resolve(__dirname, '../../fixtures/workflows');

export interface Fixture {
  id: string;
  places: string[];
  definition: components['schemas']['WorkflowDefinitionInput'];
}

export interface Write {
  workflowId: string;
  tokenId: string;
  seq: number;
  what: string;
}

export interface GuardRow {
  workflowId: string;
  tokenId: string;
  transition: string;
  why: string;
  outcome: string;
  rules: string[];
}

export interface TokenRun {
  workflowId: string;
  tokenId: string;
  place: string | null;
  versions: number[];
  published: boolean;
}

/** What this run wrote, and the refusals it met. */
export const writes: Write[] = [];
export const guardRows: GuardRow[] = [];
export const tally = { refusedAsExpected: 0 };

export function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const definition = JSON.parse(
        readFileSync(join(FIXTURES_DIR, f), 'utf8'),
      ) as Fixture['definition'];
      return { id: definition.id, places: definition.places, definition };
    });
}

export async function defineWorkflows(client: CbClient, fixtures: Fixture[]): Promise<void> {
  heading('Workflows');
  const rows: string[][] = [];
  for (const f of fixtures) {
    const res = await client.POST('/v1/workflows', { body: f.definition });
    const code = problemOf(res)?.code;
    const shape = `${f.places.length} places, ${f.definition.transitions.length} transitions`;
    if (res.response.status === 201) {
      rows.push([f.id, green(`defined, version ${res.data?.version}`), shape]);
    } else if (res.response.status === 409 && code === 'WORKFLOW_EXISTS') {
      rows.push([f.id, 'already defined', shape]);
    } else {
      rows.push([f.id, red(`${res.response.status} ${code ?? ''}`), shape]);
      problem(
        `defining ${f.id} failed`,
        describe('POST', '/v1/workflows', '<fixture>'),
        replyOf(res),
      );
    }
  }
  table(['workflow', 'POST /v1/workflows', 'shape'], rows);
}

export async function walkToken(
  client: CbClient,
  workflowId: string,
  plan: Plan,
  i: number,
  runId: string,
): Promise<TokenRun> {
  const tokenId = `demo-${runId}-${plan.tag}-${String(i + 1).padStart(2, '0')}`;
  const run: TokenRun = { workflowId, tokenId, place: null, versions: [], published: false };
  const createBody = { id: tokenId, ...plan.create(i), triggeredBy: 'demo' };
  const createPath = `/v1/workflows/${workflowId}/tokens`;
  const created = await client.POST('/v1/workflows/{workflowId}/tokens', {
    params: { path: { workflowId } },
    body: createBody,
  });
  if (!created.data) {
    const request = describe('POST', createPath, createBody);
    problem(`creating ${tokenId} failed`, request, replyOf(created));
    return run;
  }
  run.place = created.data.place;
  run.versions.push(created.data.version);
  writes.push({ workflowId, tokenId, seq: created.data.version, what: 'created' });

  for (const step of plan.steps(i)) {
    const path = `/v1/workflows/${workflowId}/tokens/${tokenId}/fire`;
    const body = {
      transition: step.transition,
      ...(step.data ? { data: step.data } : {}),
      ...(step.metadata ? { metadata: step.metadata } : {}),
      triggeredBy: 'demo',
    };
    const res = await client.POST('/v1/workflows/{workflowId}/tokens/{tokenId}/fire', {
      params: { path: { workflowId, tokenId } },
      body,
    });
    const request = describe('POST', path, body);
    const refusal = problemOf(res) ?? {};
    if (step.refused) {
      if (res.response.status === 422 && refusal.code === step.refused) {
        tally.refusedAsExpected++;
        const rules =
          step.refused === 'GUARD_FAILED'
            ? (refusal.failures ?? []).map((f) => `${f.path || '(root)'} ${f.message}`)
            : [
                `token is in ${refusal.place}; enabled: ${(refusal.enabledTransitions ?? []).join(', ') || 'none'}`,
              ];
        if (step.refused === 'GUARD_FAILED' && !(refusal.failures ?? []).length) {
          problem(`GUARD_FAILED without the failing rule`, request, replyOf(res));
        }
        guardRows.push({
          workflowId,
          tokenId,
          transition: step.transition,
          why: step.why ?? '',
          outcome: yellow(`422 ${step.refused}`),
          rules: rules.length > 0 ? rules : ['(no failing rule listed)'],
        });
      } else {
        const what = `${step.transition} should have been refused (${step.refused})`;
        problem(what, request, replyOf(res));
        if (res.data) {
          run.place = res.data.place;
          run.versions.push(res.data.version);
        }
      }
      continue;
    }
    if (!res.data) {
      problem(`${step.transition} of ${tokenId} failed`, request, replyOf(res));
      break;
    }
    run.place = res.data.place;
    run.versions.push(res.data.version);
    writes.push({ workflowId, tokenId, seq: res.data.version, what: step.transition });
    if (step.transition === 'publish') run.published = true;
    if (step.why) {
      guardRows.push({
        workflowId,
        tokenId,
        transition: step.transition,
        why: step.why,
        outcome: green(`200 → ${res.data.place}`),
        rules: [],
      });
    }
  }
  return run;
}

/** Runs `jobs` with at most `size` at a time; their results in order. */
export async function pool<T>(jobs: Array<() => Promise<T>>, size: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, jobs.length) }, worker));
  return results;
}
