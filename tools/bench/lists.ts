/**
 * How list and search costs grow with the data, on the stack as users run it (`launchStack`),
 * through the public REST API as a tenant API key: one place of the document-review fixture
 * filled to each of `sizes` tokens (created at 32 in flight: creates/s is printed), and at each
 * size p50/p99 of a page of 50 — the first, a later one (following `nextCursor`), the first with
 * `minSeq`, the cross-workflow search by workflow and place, a metadata filter — beside raw KV
 * gets in the same run. Then a token's history page and a fire on a token with a short and a
 * long history, which should stay flat.
 */
import { defineDocumentReview, documentBody, fireNext, type LoopedToken } from './document-review';
import { benchCredentials } from './credentials';
import { Errors } from './errors';
import { withLaunchedStack, type LaunchedStack } from './launched-stack';
import { LeanConnection } from './lean-http';
import { getPage, openRawTokenGets } from './stack-reads';
import { closedLoop, row, type Summary } from './stats';
import { createTokens, waitProjected, type Written } from './tokens';

const CREATORS = 32;
/**
 * Pages are read one at a time: the figure is what a page costs, not the gateway's rate; at
 * least `MIN_PAGES` of each, however slow.
 */
const READERS = 1;
const MIN_PAGES = 10;
const WORKFLOW = 'document_review_lists';
const HISTORY_WORKFLOW = 'document_review_history';
const PLACE = 'draft';
const LIMIT = 50;
/** The later page is this many pages in (or the last page of a smaller place). */
const LATER_PAGE = 4;
const HISTORY_PAGE = 100;
export const DEFAULT_SIZES = [1000, 10_000, 100_000];
const DEFAULT_HISTORY_EVENTS = 5000;

export interface ListsOptions {
  seconds: number;
  sizes?: number[];
  /** Events of the long-history token. */
  historyEvents?: number;
}

const QUERIES = [
  'first page',
  'later page',
  'first page, minSeq',
  'search',
  'metadata filter',
] as const;

export interface SizeResult {
  size: number;
  createsPerSecond: number;
  /** By query name (`QUERIES`), then the raw KV get beside them. */
  pages: Record<string, Summary>;
  rawGet: Summary;
}

export interface HistoryResult {
  events: number;
  fire: Summary;
  firstPage: Summary;
  /** A page in the middle of the history (the first page when there is only one). */
  laterPage: Summary;
}

export interface ListsResult {
  /** Whether the gateway accepted `searchAttributes: ["metadata.region"]`. */
  searchAttributes: boolean;
  sizes: SizeResult[];
  history: HistoryResult[];
  errors: number;
}

export function benchLists(options: ListsOptions): Promise<ListsResult> {
  return withLaunchedStack((stack) => runListsBench(stack, options));
}

/** The lists benchmark on a stack that is up. */
export async function runListsBench(
  stack: LaunchedStack,
  { seconds, sizes = DEFAULT_SIZES, historyEvents = DEFAULT_HISTORY_EVENTS }: ListsOptions,
): Promise<ListsResult> {
  const { apiKey } = await benchCredentials(stack.gatewayPort, {
    authorization: stack.rootAuthorization,
  });
  const conns: LeanConnection[] = [];
  const errors = new Errors();
  const raw = new Errors();
  let closeRaw: (() => Promise<void>) | undefined;
  try {
    for (let i = 0; i < CREATORS; i++) {
      conns.push(await LeanConnection.open('127.0.0.1', stack.gatewayPort, apiKey));
    }
    const searchAttributes = await defineListed(conns[0]!);
    const perQuery = Math.max(0.25, seconds / 4);
    const ids: string[] = [];
    const results: SizeResult[] = [];
    for (const size of [...sizes].sort((a, b) => a - b)) {
      const t0 = performance.now();
      const created = await createTokens(conns, WORKFLOW, size - ids.length, (i) =>
        documentBody(ids.length + i),
      );
      const createsPerSecond = created.all.length / ((performance.now() - t0) / 1000);
      ids.push(...created.all);
      await waitProjected(conns[0]!, created.last);
      console.log(
        `${size} tokens in ${WORKFLOW}/${PLACE} (${createsPerSecond.toFixed(0)} creates/s at ` +
          `${CREATORS} in flight); pages of ${LIMIT}, ${READERS} in flight, ${perQuery} s each:`,
      );
      const paths = await pagePaths(conns[0]!, created.last, errors);
      const pages: Record<string, Summary> = {};
      for (const [name, path] of Object.entries(paths)) {
        const op = errors.guard(async (w: number) => {
          const page = await getPage(conns[w]!, path, errors, name);
          return page !== null && (page.items.length > 0 || errors.add(`${name}: empty page`));
        });
        await op(0);
        pages[name] = await closedLoop(READERS, perQuery, op, MIN_PAGES);
        console.log(row(`  ${name}`, pages[name]!));
      }
      await closeRaw?.();
      const rawGets = await openRawTokenGets(stack, ids, raw);
      closeRaw = rawGets.close;
      await rawGets.op();
      const rawGet = await closedLoop(READERS, perQuery, rawGets.op, MIN_PAGES);
      console.log(row('  raw KV get (NATS KV client), same run', rawGet));
      results.push({ size, createsPerSecond, pages, rawGet });
    }
    const history = await historyCosts(conns[0]!, historyEvents, perQuery, errors);
    console.log(table(results, history, searchAttributes));
    errors.print('list and search');
    raw.print('raw KV get');
    return { searchAttributes, sizes: results, history, errors: errors.total + raw.total };
  } finally {
    for (const c of conns) c.close();
    await closeRaw?.();
  }
}

/**
 * Defines the listed workflow with `searchAttributes: ["metadata.region"]` if the gateway accepts
 * it (issue 14), else without (the metadata filter then scans, as documented); says which.
 */
async function defineListed(conn: LeanConnection): Promise<boolean> {
  const declared = await defineDocumentReview(conn, WORKFLOW, {
    searchAttributes: ['metadata.region'],
  });
  if (declared.status === 201) {
    console.log('definition with searchAttributes ["metadata.region"]: accepted');
    return true;
  }
  if (declared.status !== 400) {
    throw new Error(`define failed: ${declared.status} ${declared.body}`);
  }
  const { detail } = JSON.parse(declared.body) as { detail?: string };
  console.log(
    `definition with searchAttributes refused (400: ${detail ?? declared.body}): ` +
      'defined without, so the metadata filter is a scan',
  );
  const plain = await defineDocumentReview(conn, WORKFLOW);
  if (plain.status !== 201) throw new Error(`define failed: ${plain.status} ${plain.body}`);
  return false;
}

/** The measured queries' paths; the later page's cursor found by following `nextCursor`. */
async function pagePaths(
  conn: LeanConnection,
  last: Written,
  errors: Errors,
): Promise<Record<string, string>> {
  const first = `/v1/workflows/${WORKFLOW}/tokens?place=${PLACE}&limit=${LIMIT}`;
  let later = first;
  for (let n = 1; n < LATER_PAGE; n++) {
    const page = await getPage(conn, later, errors);
    if (!page?.nextCursor) break;
    later = `${first}&cursor=${encodeURIComponent(page.nextCursor)}`;
  }
  const paths = {
    'first page': first,
    'later page': later,
    'first page, minSeq': `${first}&minSeq=${last.version}`,
    search: `/v1/tokens?workflowId=${WORKFLOW}&place=${PLACE}&limit=${LIMIT}`,
    'metadata filter': `/v1/tokens?metadata.region=eu&limit=${LIMIT}`,
  };
  return paths satisfies Record<(typeof QUERIES)[number], string>;
}

/**
 * One token fired round the loop to 200 events, then to `events`: at each, a history page of 100
 * (the first, and one in the middle) and a fire, one at a time.
 */
async function historyCosts(
  conn: LeanConnection,
  events: number,
  seconds: number,
  errors: Errors,
): Promise<HistoryResult[]> {
  const defined = await defineDocumentReview(conn, HISTORY_WORKFLOW);
  if (defined.status !== 201) throw new Error(`define failed: ${defined.status} ${defined.body}`);
  const res = await conn.request(
    'POST',
    `/v1/workflows/${HISTORY_WORKFLOW}/tokens`,
    documentBody(0),
  );
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.body}`);
  const token: LoopedToken = {
    workflowId: HISTORY_WORKFLOW,
    step: 0,
    ...(JSON.parse(res.body) as Written),
  };
  const fire = errors.guard(async () => {
    const fired = await fireNext(conn, token);
    return fired.ok || errors.add(`fire: ${fired.status} ${fired.body.slice(0, 200)}`);
  });
  const history = `/v1/workflows/${HISTORY_WORKFLOW}/tokens/${token.id}/history?limit=${HISTORY_PAGE}`;
  const measureAt = async (): Promise<HistoryResult> => {
    // Pages first, at exactly this many events; the fires then add some.
    const pageOp = (path: string): (() => Promise<boolean>) =>
      errors.guard(async () => (await getPage(conn, path, errors)) !== null);
    const events = token.step + 1;
    let later = history;
    for (let n = 0; n < Math.floor(events / HISTORY_PAGE / 2); n++) {
      const page = await getPage(conn, later, errors);
      if (!page?.nextCursor) break;
      later = `${history}&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    const result = {
      events,
      firstPage: await closedLoop(1, seconds, pageOp(history)),
      laterPage: await closedLoop(1, seconds, pageOp(later)),
      fire: await closedLoop(1, seconds, fire),
    };
    console.log(`token with ${result.events} events (the fires from there on):`);
    console.log(row('  fire, 1 in flight', result.fire));
    console.log(row(`  history page of ${HISTORY_PAGE}, first`, result.firstPage));
    console.log(row(`  history page of ${HISTORY_PAGE}, middle`, result.laterPage));
    return result;
  };
  const results: HistoryResult[] = [];
  // Full pages at both lengths: the short history has two pages of 100.
  for (const target of [Math.min(2 * HISTORY_PAGE, events), events]) {
    while (token.step + 1 < target) if (!(await fire())) break;
    results.push(await measureAt());
  }
  return results;
}

/** Every size side by side: p50/p99 in ms of each query, raw KV get below. */
function table(sizes: SizeResult[], history: HistoryResult[], searchAttributes: boolean): string {
  const ms = (s: Summary): string => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)}`;
  const line = (label: string, cells: string[]): string =>
    [label.padEnd(36), ...cells.map((c) => c.padStart(18))].join('');
  return [
    `\nlists as the place grows (p50 / p99 ms, pages of ${LIMIT}, ${READERS} in flight; ` +
      `metadata.region ${searchAttributes ? 'declared as a search attribute' : 'NOT declared (refused): a scan'})`,
    line(
      'tokens in the place',
      sizes.map((s) => String(s.size)),
    ),
    ...QUERIES.map((q) =>
      line(
        q,
        sizes.map((s) => ms(s.pages[q]!)),
      ),
    ),
    line(
      'raw KV get, same run',
      sizes.map((s) => ms(s.rawGet)),
    ),
    line(
      'creates/s at 32 in flight',
      sizes.map((s) => s.createsPerSecond.toFixed(0)),
    ),
    `\nhistory (p50 / p99 ms, 1 in flight)`,
    line(
      'events of the token',
      history.map((h) => String(h.events)),
    ),
    line(
      'fire',
      history.map((h) => ms(h.fire)),
    ),
    line(
      `history page of ${HISTORY_PAGE}, first`,
      history.map((h) => ms(h.firstPage)),
    ),
    line(
      `history page of ${HISTORY_PAGE}, middle`,
      history.map((h) => ms(h.laterPage)),
    ),
  ].join('\n');
}
