/**
 * `npm run demo`: against a running stack (`npm start`), define the fixture workflows, walk a few
 * dozen tokens through them (guards failing and passing), then print tokens per place, one
 * token's history and a tail of live events. Re-runnable: token ids are unique per run and an
 * already defined workflow is fine.
 *
 * The gateway is `CB_URL` (default `http://127.0.0.1:${GATEWAY_PORT:-3000}`); the credential is
 * `CB_API_KEY`, else the root credential `npm start` keeps in `<CB_DATA_DIR>/admin-key` (an API
 * key needs `read`, `tokens:write` and `workflows:write`). Exit status 0 when
 * every answer was the expected one, 1 when the gateway is not there or something misbehaved (each
 * problem is printed with its request and response).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HistoryPage, SequencedEvent, StatsResponse, Token } from '@cb/schemas';

const FIXTURES_DIR = resolve(__dirname, '../../fixtures/workflows');
const REQUEST_TIMEOUT_MS = 10_000;
const CONCURRENCY = 6;
const TAIL_MS = 2000;
const TAIL_EVENTS = 12;

// ---------------------------------------------------------------------------------------------
// Output

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint =
  (code: number) =>
  (text: string): string =>
    color ? `\x1b[${code}m${text}\x1b[0m` : text;
const bold = paint(1);
const dim = paint(2);
const red = paint(31);
const green = paint(32);
const yellow = paint(33);

/** Pad to a width, ANSI codes ignored. */
// eslint-disable-next-line no-control-regex -- ANSI colour codes take no width
const visible = (text: string): number => text.replace(/\x1b\[[0-9;]*m/g, '').length;
const pad = (text: string, width: number, right = false): string => {
  const fill = ' '.repeat(Math.max(0, width - visible(text)));
  return right ? fill + text : text + fill;
};

/** An aligned table; columns whose header starts with '>' are right-aligned. */
function table(headers: string[], rows: string[][], indent = '  '): void {
  const right = headers.map((h) => h.startsWith('>'));
  const names = headers.map((h) => (h.startsWith('>') ? h.slice(1) : h));
  const widths = names.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]): string =>
    indent +
    cells
      .map((c, i) => pad(c, widths[i]!, right[i]))
      .join('  ')
      .trimEnd();
  console.log(dim(line(names)));
  for (const row of rows) console.log(line(row));
}

function heading(text: string): void {
  console.log(`\n${bold(text)}`);
}

/** A short JSON rendering for small objects; long ones are cut. */
function brief(value: unknown, max = 60): string {
  const text = JSON.stringify(value);
  if (text === undefined) return '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// ---------------------------------------------------------------------------------------------
// HTTP

interface Reply<T = unknown> {
  status: number;
  body: T;
  text: string;
}

interface ProblemBody {
  code?: string;
  detail?: string;
  failures?: Array<{ path: string; message: string }>;
  place?: string;
  enabledTransitions?: string[];
}

/** Everything that did not answer as expected; printed at the end, exit 1. */
const problems: string[] = [];

function problem(what: string, request: string, reply: Reply | string): void {
  const response =
    typeof reply === 'string' ? reply : `${reply.status} ${reply.text.slice(0, 600)}`;
  problems.push(`${what}\n      request:  ${request}\n      response: ${response}`);
}

class Gateway {
  constructor(
    readonly base: string,
    /** `Bearer <credential>`. */
    readonly authorization: string,
  ) {}

  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const res = await fetch(this.base + path, {
      method,
      headers: {
        authorization: this.authorization,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed as T, text };
  }
}

const describe = (method: string, path: string, body?: unknown): string =>
  `${method} ${path}${body === undefined ? '' : ` ${brief(body, 200)}`}`;

// ---------------------------------------------------------------------------------------------
// What the demo does with each workflow

interface Step {
  transition: string;
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  /** The refusal this fire is meant to get (default: it succeeds). */
  refused?: 'GUARD_FAILED' | 'TRANSITION_NOT_ENABLED';
  /** What the step shows, for the guard table. */
  why?: string;
}

interface Plan {
  tag: string;
  count: number;
  create(i: number): { data: Record<string, unknown>; metadata?: Record<string, unknown> };
  steps(i: number): Step[];
}

const PLANS: Record<string, Plan> = {
  article_publishing: {
    tag: 'art',
    count: 10,
    create: (i) => ({
      data: { title: `Article ${i + 1}`, content: 'Lorem ipsum…', word_count: 50 },
    }),
    steps: (i) => {
      const submitTooShort: Step = {
        transition: 'submit',
        refused: 'GUARD_FAILED',
        why: 'word_count 50',
      };
      const submit: Step = {
        transition: 'submit',
        data: { word_count: 150 },
        why: 'word_count 150',
      };
      const approve: Step = { transition: 'approve', metadata: { reviewer: 'ann' } };
      switch (i % 5) {
        case 0:
          return [submitTooShort];
        case 1:
          return [submitTooShort, submit];
        case 2:
          return [
            submit,
            { transition: 'approve', refused: 'GUARD_FAILED', why: 'no reviewer' },
            approve,
          ];
        case 3:
          return [
            submit,
            approve,
            { transition: 'publish', refused: 'GUARD_FAILED', why: 'word_count 150, no status' },
            i < 5
              ? {
                  transition: 'publish',
                  data: { document_type: 'article', word_count: 650 },
                  metadata: { status: 'approved' },
                  why: 'article, word_count 650, approved',
                }
              : { transition: 'publish', metadata: { emergency: true }, why: 'emergency' },
          ];
        default:
          return [
            submit,
            { transition: 'reject', metadata: { reviewer: 'bo' } },
            ...(i >= 5 ? [{ transition: 'revise' }] : []),
          ];
      }
    },
  },
  document_review: {
    tag: 'doc',
    count: 8,
    create: (i) => ({ data: { title: `Document ${i + 1}` } }),
    steps: (i) => {
      const path = ['submit', 'review', 'approve'];
      switch (i % 4) {
        case 0:
          return [
            { transition: 'approve', refused: 'TRANSITION_NOT_ENABLED', why: 'still a draft' },
            { transition: 'submit' },
          ];
        case 1:
          return path.slice(0, 2).map((transition) => ({ transition }));
        case 2:
          return path.map((transition) => ({ transition }));
        default:
          return ['submit', 'review', 'reject', 'revise'].map((transition) => ({ transition }));
      }
    },
  },
  order_processing: {
    tag: 'ord',
    count: 10,
    create: (i) => ({ data: { items: (i % 3) + 1, total: 19.9 * ((i % 3) + 1) } }),
    steps: (i) => {
      const pay: Step = { transition: 'pay', data: { payment_method: 'card' }, why: 'card' };
      switch (i % 5) {
        case 0:
          return [{ transition: 'cancel' }];
        case 1:
          return [{ transition: 'checkout' }];
        case 2:
          return [
            { transition: 'checkout' },
            { transition: 'pay', refused: 'GUARD_FAILED', why: 'no payment_method' },
            pay,
          ];
        case 3:
          return [{ transition: 'checkout' }, pay, { transition: 'ship' }];
        default:
          return [
            { transition: 'checkout' },
            pay,
            { transition: 'ship' },
            { transition: 'deliver' },
          ];
      }
    },
  },
  software_deployment: {
    tag: 'dep',
    count: 8,
    create: (i) => ({ data: { service: `svc-${i + 1}`, build: 100 + i, tests_passed: false } }),
    steps: (i) => {
      const staging: Step = {
        transition: 'promote_to_staging',
        data: { tests_passed: true },
        why: 'tests_passed true',
      };
      const production: Step = {
        transition: 'promote_to_production',
        metadata: { qa_approved_by: 'qa-team' },
        why: 'qa_approved_by set',
      };
      switch (i % 4) {
        case 0:
          return [
            {
              transition: 'promote_to_staging',
              refused: 'GUARD_FAILED',
              why: 'tests_passed false',
            },
          ];
        case 1:
          return [staging];
        case 2:
          return [
            staging,
            { transition: 'promote_to_production', refused: 'GUARD_FAILED', why: 'no QA approval' },
            production,
          ];
        default:
          return i < 4
            ? [staging, production, { transition: 'roll_back' }, { transition: 'restage' }]
            : [staging, production, { transition: 'start_hotfix' }];
      }
    },
  },
};

// ---------------------------------------------------------------------------------------------
// State of this run

interface Fixture {
  id: string;
  places: string[];
  definition: unknown;
}

interface Write {
  workflowId: string;
  tokenId: string;
  seq: number;
  what: string;
}

interface GuardRow {
  workflowId: string;
  tokenId: string;
  transition: string;
  why: string;
  outcome: string;
  rules: string[];
}

interface TokenRun {
  workflowId: string;
  tokenId: string;
  place: string | null;
  versions: number[];
  published: boolean;
}

const writes: Write[] = [];
const guardRows: GuardRow[] = [];
let refusedAsExpected = 0;

function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const definition = JSON.parse(readFileSync(join(FIXTURES_DIR, f), 'utf8')) as {
        id: string;
        places: string[];
      };
      return { id: definition.id, places: definition.places, definition };
    });
}

async function defineWorkflows(gw: Gateway, fixtures: Fixture[]): Promise<void> {
  heading('Workflows');
  const rows: string[][] = [];
  for (const f of fixtures) {
    const res = await gw.call<{ version?: number } & ProblemBody>(
      'POST',
      '/v1/workflows',
      f.definition,
    );
    const transitions = (f.definition as { transitions: unknown[] }).transitions.length;
    const shape = `${f.places.length} places, ${transitions} transitions`;
    if (res.status === 201) {
      rows.push([f.id, green(`defined, version ${res.body.version}`), shape]);
    } else if (res.status === 409 && res.body?.code === 'WORKFLOW_EXISTS') {
      rows.push([f.id, 'already defined', shape]);
    } else {
      rows.push([f.id, red(`${res.status} ${res.body?.code ?? ''}`), shape]);
      problem(`defining ${f.id} failed`, describe('POST', '/v1/workflows', '<fixture>'), res);
    }
  }
  table(['workflow', 'POST /v1/workflows', 'shape'], rows);
}

async function walkToken(
  gw: Gateway,
  workflowId: string,
  plan: Plan,
  i: number,
  runId: string,
): Promise<TokenRun> {
  const tokenId = `demo-${runId}-${plan.tag}-${String(i + 1).padStart(2, '0')}`;
  const run: TokenRun = { workflowId, tokenId, place: null, versions: [], published: false };
  const createBody = { id: tokenId, ...plan.create(i), triggeredBy: 'demo' };
  const createPath = `/v1/workflows/${workflowId}/tokens`;
  const created = await gw.call<Token & ProblemBody>('POST', createPath, createBody);
  if (created.status !== 201) {
    problem(`creating ${tokenId} failed`, describe('POST', createPath, createBody), created);
    return run;
  }
  run.place = created.body.place;
  run.versions.push(created.body.version);
  writes.push({ workflowId, tokenId, seq: created.body.version, what: 'created' });

  for (const step of plan.steps(i)) {
    const path = `/v1/workflows/${workflowId}/tokens/${tokenId}/fire`;
    const body = {
      transition: step.transition,
      ...(step.data ? { data: step.data } : {}),
      ...(step.metadata ? { metadata: step.metadata } : {}),
      triggeredBy: 'demo',
    };
    const res = await gw.call<Token & ProblemBody>('POST', path, body);
    const request = describe('POST', path, body);
    if (step.refused) {
      if (res.status === 422 && res.body?.code === step.refused) {
        refusedAsExpected++;
        const rules =
          step.refused === 'GUARD_FAILED'
            ? (res.body.failures ?? []).map((f) => `${f.path || '(root)'} ${f.message}`)
            : [
                `token is in ${res.body.place}; enabled: ${(res.body.enabledTransitions ?? []).join(', ') || 'none'}`,
              ];
        if (step.refused === 'GUARD_FAILED' && !(res.body.failures ?? []).length) {
          problem(`GUARD_FAILED without the failing rule`, request, res);
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
        problem(`${step.transition} should have been refused (${step.refused})`, request, res);
        if (res.status === 200) {
          run.place = res.body.place;
          run.versions.push(res.body.version);
        }
      }
      continue;
    }
    if (res.status !== 200) {
      problem(`${step.transition} of ${tokenId} failed`, request, res);
      break;
    }
    run.place = res.body.place;
    run.versions.push(res.body.version);
    writes.push({ workflowId, tokenId, seq: res.body.version, what: step.transition });
    if (step.transition === 'publish') run.published = true;
    if (step.why) {
      guardRows.push({
        workflowId,
        tokenId,
        transition: step.transition,
        why: step.why,
        outcome: green(`200 → ${res.body.place}`),
        rules: [],
      });
    }
  }
  return run;
}

async function pool<T>(jobs: Array<() => Promise<T>>, size: number): Promise<T[]> {
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

// ---------------------------------------------------------------------------------------------
// Reads

async function printStats(gw: Gateway, fixtures: Fixture[], runs: TokenRun[]): Promise<void> {
  heading('Tokens per place');
  console.log(
    dim('  "this run": where the demo left its tokens; "all": GET …/stats?minSeq=<last write>'),
  );
  for (const f of fixtures) {
    const mine = runs.filter((r) => r.workflowId === f.id);
    const lastSeq = Math.max(0, ...writes.filter((w) => w.workflowId === f.id).map((w) => w.seq));
    const path = `/v1/workflows/${f.id}/stats${lastSeq > 0 ? `?minSeq=${lastSeq}` : ''}`;
    const res = await gw.call<StatsResponse & ProblemBody>('GET', path);
    if (res.status !== 200) {
      console.log(`\n  ${bold(f.id)}  ${red(`${res.status} ${res.body?.code ?? ''}`)}`);
      problem(`stats of ${f.id} failed`, describe('GET', path), res);
      continue;
    }
    const s = res.body;
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
          res,
        );
      }
    }
    if (s.totalTokens < mine.length) {
      problem(
        `stats of ${f.id} count ${s.totalTokens} live tokens, this run alone created ${mine.length}`,
        describe('GET', path),
        res,
      );
    }
  }
}

function describeEvent(e: SequencedEvent['event']): { change: string; detail: string } {
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

async function printHistory(gw: Gateway, run: TokenRun): Promise<void> {
  heading(`History of ${run.tokenId} (${run.workflowId})`);
  const path = `/v1/workflows/${run.workflowId}/tokens/${run.tokenId}/history`;
  const res = await gw.call<HistoryPage & ProblemBody>('GET', path);
  if (res.status !== 200 || !Array.isArray(res.body?.items)) {
    console.log(`  ${red(`${res.status} ${res.body?.code ?? ''}`)}`);
    problem('history failed', describe('GET', path), res);
    return;
  }
  const items = res.body.items;
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
      res,
    );
  }
}

interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/** Read an SSE response for `ms` milliseconds (or until it ends); every complete event. */
async function readSse(
  url: string,
  authorization: string,
  ms: number,
  onOpen: () => Promise<void>,
): Promise<{ status: number; events: SseEvent[]; text: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, {
      headers: { accept: 'text/event-stream', authorization },
      signal: abort.signal,
    });
    if (res.status !== 200 || !res.body) {
      return { status: res.status, events, text: await res.text() };
    }
    const opened = onOpen();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
          const e: SseEvent = { id: '', event: 'message', data: '' };
          let has = false;
          for (const line of block.split(/\r?\n/)) {
            if (line.startsWith(':') || line === '') continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const raw = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') e.id = raw;
            else if (field === 'event') e.event = raw;
            else if (field === 'data') {
              e.data = e.data ? `${e.data}\n${raw}` : raw;
              has = true;
            }
          }
          if (has) events.push(e);
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
    await opened;
    return { status: 200, events, text: '' };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

async function printTail(gw: Gateway, runs: TokenRun[]): Promise<void> {
  const workflowId = runs[0]?.workflowId;
  if (!workflowId) return;
  const mine = writes.filter((w) => w.workflowId === workflowId).sort((a, b) => a.seq - b.seq);
  const since = mine.length > TAIL_EVENTS ? mine[mine.length - TAIL_EVENTS - 1]!.seq : 0;
  heading(`Event tail: ${workflowId}, events after seq ${since}, ${TAIL_MS / 1000} s`);
  const path = `/v1/workflows/${workflowId}/events?since=${since}`;
  const target = runs.find((r) => r.workflowId === workflowId && r.place !== null) ?? runs[0]!;
  let live: Write | undefined;
  const opened = Date.now();
  const { status, events, text } = await readSse(
    gw.base + path,
    gw.authorization,
    TAIL_MS,
    async () => {
      // While the stream is open, one more write: it must arrive live.
      await new Promise((r) => setTimeout(r, 300));
      const patchPath = `/v1/workflows/${workflowId}/tokens/${target.tokenId}`;
      const patch = { metadata: { watched: true }, triggeredBy: 'demo' };
      const res = await gw.call<Token & ProblemBody>('PATCH', patchPath, patch, {
        'content-type': 'application/merge-patch+json',
      });
      if (res.status !== 200) {
        problem('the live write of the tail failed', describe('PATCH', patchPath, patch), res);
        return;
      }
      target.versions.push(res.body.version);
      live = { workflowId, tokenId: target.tokenId, seq: res.body.version, what: 'patch' };
      writes.push(live);
    },
  );
  if (status !== 200) {
    console.log(`  ${red(String(status))} ${text.slice(0, 200)}`);
    problem('the event stream did not open', describe('GET', path), { status, body: null, text });
    return;
  }
  const rows: string[][] = [];
  const received = new Set<number>();
  for (const e of events) {
    let parsed: SequencedEvent | undefined;
    try {
      parsed = JSON.parse(e.data) as SequencedEvent;
    } catch {
      problem('an SSE event is not JSON', describe('GET', path), `id: ${e.id} data: ${e.data}`);
      continue;
    }
    received.add(Number(e.id));
    const { change } = describeEvent(parsed.event);
    const isLive = live !== undefined && Number(e.id) === live.seq;
    rows.push([e.id, e.event, parsed.event.tokenId, change, isLive ? green('live') : '']);
    if (String(parsed.seq) !== e.id || parsed.event.type !== e.event) {
      problem(
        `SSE event id/event lines disagree with its data (id ${e.id}, event ${e.event}, data seq ${parsed.seq}, type ${parsed.event.type})`,
        describe('GET', path),
        e.data.slice(0, 300),
      );
    }
  }
  table(['>id', 'event', 'token', 'from → to', ''], rows);
  console.log(
    dim(`  ${events.length} events in ${((Date.now() - opened) / 1000).toFixed(1)} s, then closed`),
  );
  const expected = [...mine.filter((w) => w.seq > since), ...(live ? [live] : [])];
  const missing = expected.filter((w) => !received.has(w.seq));
  if (missing.length > 0) {
    problem(
      `the event stream missed ${missing.length} of this run's events: ${missing
        .map((w) => `${w.seq} (${w.tokenId} ${w.what})`)
        .join(', ')}`,
      describe('GET', path),
      `${events.length} events: ids ${[...received].join(', ')}`,
    );
  }
  const ids = events.map((e) => Number(e.id));
  if (ids.some((id, i) => id <= since || (i > 0 && id <= ids[i - 1]!))) {
    problem(
      'the event stream is not in seq order after `since`',
      describe('GET', path),
      ids.join(', '),
    );
  }
}

// ---------------------------------------------------------------------------------------------

/** Where `npm start` keeps the root credential it generated. */
function adminKeyFile(): string {
  const dataDir = process.env.CB_DATA_DIR?.trim() || resolve(__dirname, '../../.data');
  return join(resolve(dataDir), 'admin-key');
}

/** `CB_API_KEY`, else the root credential `npm start` keeps; null when there is neither. */
function apiCredential(): string | null {
  const given = process.env.CB_API_KEY?.trim();
  if (given) return given;
  const file = adminKeyFile();
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || null : null;
}

async function reachable(base: string): Promise<string | null> {
  try {
    const res = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(3000) });
    if (res.status === 200) return null;
    return `the gateway at ${base} answers but is not ready (GET /ready: ${res.status} ${(await res.text()).slice(0, 200)})`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    return `no gateway answers at ${base} (${why})`;
  }
}

async function main(): Promise<void> {
  const base = (
    process.env.CB_URL?.trim() || `http://127.0.0.1:${process.env.GATEWAY_PORT?.trim() || 3000}`
  ).replace(/\/+$/, '');
  const unreachable = await reachable(base);
  if (unreachable) {
    console.error(
      `${unreachable}.\nStart the stack with \`npm start\` (or point CB_URL at a running gateway), then run \`npm run demo\` again.`,
    );
    process.exit(1);
  }
  const credential = apiCredential();
  if (credential === null) {
    console.error(
      `No credential: set CB_API_KEY, or start the stack with \`npm start\` (it keeps the root credential in ${adminKeyFile()}).`,
    );
    process.exit(1);
  }
  const gw = new Gateway(base, `Bearer ${credential}`);
  const probe = await gw.call('GET', '/v1/workflows?limit=1');
  if (probe.status === 401 || probe.status === 403) {
    console.error(
      `The gateway at ${base} refuses the credential (${probe.status} ${String((probe.body as { code?: string } | undefined)?.code)}): set CB_API_KEY to a key with read, tokens:write and workflows:write, or use the root credential in ${adminKeyFile()}.`,
    );
    process.exit(1);
  }
  const started = Date.now();
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  console.log(`${bold('Circuit Breaker demo')} against ${base} ${dim(`(run ${runId})`)}`);

  const fixtures = loadFixtures();
  await defineWorkflows(gw, fixtures);

  const jobs: Array<() => Promise<TokenRun>> = [];
  for (const f of fixtures) {
    const plan = PLANS[f.id];
    if (!plan) continue;
    for (let i = 0; i < plan.count; i++) jobs.push(() => walkToken(gw, f.id, plan, i, runId));
  }
  const runs = await pool(jobs, CONCURRENCY);
  const fired = writes.filter((w) => w.what !== 'created').length;
  heading('Tokens');
  console.log(
    `  ${runs.length} tokens created (ids demo-${runId}-…), ${fired} transitions fired, ${refusedAsExpected} fires refused as intended`,
  );

  heading('Guards and refusals');
  console.log(dim('  one example of each kind; a refused fire changes nothing'));
  const order = (r: GuardRow): string =>
    `${String(fixtures.findIndex((f) => f.id === r.workflowId)).padStart(3, '0')} ${r.tokenId}`;
  const examples = [...guardRows]
    .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
    .filter(
      (row, i, all) =>
        all.findIndex(
          (o) =>
            o.workflowId === row.workflowId && o.transition === row.transition && o.why === row.why,
        ) === i,
    );
  table(
    ['workflow', 'token', 'transition', 'request', 'answer', 'failing rule'],
    examples.flatMap((r) => [
      [r.workflowId, r.tokenId.slice(-6), r.transition, r.why, r.outcome, r.rules[0] ?? ''],
      ...r.rules.slice(1).map((rule) => ['', '', '', '', '', rule]),
    ]),
  );

  await printStats(gw, fixtures, runs);
  const showcase =
    runs.find((r) => r.workflowId === 'article_publishing' && r.published) ??
    runs.reduce((a, b) => (b.versions.length > a.versions.length ? b : a), runs[0]!);
  if (showcase) await printHistory(gw, showcase);
  await printTail(gw, runs);

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (problems.length > 0) {
    heading(red(`${problems.length} problem(s)`));
    for (const p of problems) console.log(`  - ${p}`);
    console.log(`\nDemo finished in ${seconds} s with problems.`);
    process.exit(1);
  }
  console.log(`\n${green('Demo finished')} in ${seconds} s: every answer was the expected one.`);
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
