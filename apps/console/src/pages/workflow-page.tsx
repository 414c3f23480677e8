import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, request, type StatsResponse, type WorkflowResource } from '../api';
import { BarChart, ColumnChart } from '../components/charts';
import { ProblemView } from '../components/problem-view';
import { layoutGraph } from '../graph/layout';
import { graphModelOf } from '../graph/model';
import { GraphView } from '../graph/graph-view';
import {
  awaitResync,
  emptyCounts,
  foldEvent,
  resync,
  sequencedEventOf,
  type LiveCounts,
} from '../live/counts';
import { runEventStream, type StreamStatus } from '../live/event-stream';
import { barsOf, formatDuration, throughputOf } from '../live/stats-view';
import { Link, links } from '../router';
import { useSession } from '../session-context';
import type { PageProps } from './table';

/** Stats (charts, and a resync of the live counts) are re-read this often. */
const STATS_POLL_MS = 10_000;
/** After a burst of events the stats are re-read once, this long after the first. */
const STATS_AFTER_EVENT_MS = 1500;
const NARROW = '(max-width: 700px)';
const WINDOWS = { '1h': 1, '24h': 24, '7d': 24 * 7 } as const;
type WindowKey = keyof typeof WINDOWS;

function parseVersion(raw: string | null): number | undefined {
  if (raw === null || !/^[1-9][0-9]{0,14}$/.test(raw)) return undefined;
  return Number(raw);
}

/** Whether the viewport is phone-narrow: the graph is then laid out top to bottom. */
function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => matchMedia(NARROW).matches);
  useEffect(() => {
    const mq = matchMedia(NARROW);
    const on = () => setNarrow(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return narrow;
}

/**
 * A workflow: its graph with live counts (SSE of /v1/workflows/:wf/events folded over a stats
 * read, resynced at every reconnect and poll), the structural analysis, stats charts over a
 * window, and its versions (`?version=n` shows an older definition; counts are the workflow's).
 */
export function WorkflowPage({ params, search }: PageProps) {
  const wf = params['wf'] ?? '';
  const version = parseVersion(search.get('version'));
  const { can } = useSession();
  const [def, setDef] = useState<WorkflowResource>();
  const [latest, setLatest] = useState<number>();
  /** Set once the workflow is known to exist: only then stats are polled and events streamed. */
  const [exists, setExists] = useState(false);
  const narrow = useNarrow();
  const [error, setError] = useState<unknown>();
  const [stats, setStats] = useState<StatsResponse>();
  const [statsError, setStatsError] = useState<unknown>();
  const [live, setLive] = useState<LiveCounts>(emptyCounts);
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const [streamError, setStreamError] = useState<unknown>();
  const [windowKey, setWindowKey] = useState<WindowKey>('24h');
  const windowRef = useRef(windowKey);
  windowRef.current = windowKey;
  const base = `/v1/workflows/${encodeURIComponent(wf)}`;

  // The definition (the asked version) and the latest version number.
  useEffect(() => {
    const ac = new AbortController();
    setDef(undefined);
    setError(undefined);
    Promise.all([
      get<WorkflowResource>(base, version !== undefined ? { version } : undefined, ac.signal),
      version !== undefined ? get<WorkflowResource>(base, undefined, ac.signal) : undefined,
    ])
      .then(([d, l]) => {
        setDef(d);
        setLatest((l ?? d).version);
        setExists(true);
      })
      .catch((err: unknown) => {
        if (!ac.signal.aborted) setError(err);
      });
    return () => ac.abort();
  }, [base, version]);

  // Stats: charts and the counts' resync point (X-As-Of-Seq).
  const statsNow = useRef<() => Promise<void>>(async () => undefined);
  useEffect(() => {
    if (!exists) return;
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      const to = new Date();
      const from = new Date(to.getTime() - WINDOWS[windowRef.current] * 3_600_000);
      try {
        const res = await request<StatsResponse>('GET', `${base}/stats`, {
          query: { from: from.toISOString(), to: to.toISOString() },
          signal: ac.signal,
        });
        const asOf = Number(res.headers.get('x-as-of-seq'));
        setStats(res.body);
        setStatsError(undefined);
        if (Number.isSafeInteger(asOf) && asOf >= 0) {
          setLive((s) => resync(s, res.body.places, res.body.totalTokens, asOf));
        }
      } catch (err) {
        if (!ac.signal.aborted) setStatsError(err);
      }
    };
    const loop = async () => {
      if (document.visibilityState !== 'hidden') await read();
      if (!ac.signal.aborted) timer = setTimeout(() => void loop(), STATS_POLL_MS);
    };
    statsNow.current = read;
    void loop();
    return () => {
      ac.abort();
      if (timer) clearTimeout(timer);
    };
  }, [base, exists]);

  // Live events: fold each into the counts; every (re)connect waits for a fresh read.
  useEffect(() => {
    if (!exists) return;
    const ac = new AbortController();
    let soon: ReturnType<typeof setTimeout> | undefined;
    setLive(emptyCounts());
    void runEventStream({
      path: `${base}/events`,
      signal: ac.signal,
      onOpen: () => {
        setStreamError(undefined);
        setLive((s) => awaitResync(s));
        void statsNow.current();
      },
      onFrame: (frame) => {
        const ev = sequencedEventOf(frame.data);
        if (!ev) return;
        setLive((s) => foldEvent(s, ev));
        // The charts follow the events too, one read per burst.
        soon ??= setTimeout(() => {
          soon = undefined;
          void statsNow.current();
        }, STATS_AFTER_EVENT_MS);
      },
      onStatus: setStatus,
      onProblem: setStreamError,
    });
    return () => {
      ac.abort();
      if (soon) clearTimeout(soon);
    };
  }, [base, exists]);

  const layout = useMemo(
    () => (def ? layoutGraph(graphModelOf(def), narrow ? 'TB' : 'LR') : undefined),
    [def, narrow],
  );

  if (error) return <ProblemView error={error} title={`Workflow ${wf}`} />;
  if (!def || !layout) return <p class="muted">Loading {wf}…</p>;

  const known = live.ready ? live.counts : stats?.places;
  const counts = known ?? {};
  const analysis = def.analysis;
  const transitionIds = def.transitions.map((t) => t.id);
  return (
    <section>
      <p>
        <Link href={links.workflows()}>← Workflows</Link>
      </p>
      <h1>
        {def.name} <code>{def.id}</code>
      </h1>
      {def.description ? <p>{def.description}</p> : null}
      <div class="toolbar">
        <span>
          version {def.version}
          {latest !== undefined && latest !== def.version ? ` (latest is ${latest})` : ''}
        </span>
        <span class="live" data-status={status} aria-live="polite">
          {status === 'live' ? 'live' : status}
        </span>
        <span>
          tokens{' '}
          <strong data-total={def.id}>
            {live.ready ? live.total : (stats?.totalTokens ?? '…')}
          </strong>
        </span>
        {can('workflows:write') ? (
          <>
            <Link class="button" href={links.newVersion(def.id)}>
              New version
            </Link>
            <Link class="button secondary" href={links.newDefinition()}>
              New workflow
            </Link>
          </>
        ) : null}
      </div>
      <ProblemView error={streamError} title="Live updates stopped" />
      <GraphView
        workflowId={def.id}
        layout={layout}
        counts={known}
        placeHref={(p) => links.place(def.id, p)}
      />
      <p class="muted legend">
        Thick blue border: initial place; green double border: final place; shaded: unreachable or
        dead end; “guard”: a guarded transition; “timer” and dashed: a timed transition. Select a
        place to see its tokens.
      </p>

      <h2>Analysis</h2>
      <ul class="analysis">
        <li>
          Unreachable places:{' '}
          {analysis.unreachablePlaces.length === 0 ? 'none' : analysis.unreachablePlaces.join(', ')}
        </li>
        <li>
          Dead ends:{' '}
          {analysis.deadEndPlaces.length === 0 ? 'none' : analysis.deadEndPlaces.join(', ')}
        </li>
        <li>Initial place: {def.initialPlace}</li>
        <li>
          Final places:{' '}
          {(def.finalPlaces ?? []).length === 0 ? 'none' : (def.finalPlaces ?? []).join(', ')}
        </li>
      </ul>

      <h2>Places</h2>
      <ul class="places">
        {def.places.map((p) => (
          <li key={p}>
            <Link href={links.place(def.id, p)}>{p}</Link>: {counts[p] ?? 0} tokens
          </li>
        ))}
      </ul>

      <h2>Stats</h2>
      <div class="toolbar">
        <label for="stats-window">Window</label>
        <select
          id="stats-window"
          value={windowKey}
          onChange={(e) => {
            windowRef.current = (e.target as HTMLSelectElement).value as WindowKey;
            setWindowKey(windowRef.current);
            void statsNow.current();
          }}
        >
          <option value="1h">last hour</option>
          <option value="24h">last 24 hours</option>
          <option value="7d">last 7 days</option>
        </select>
      </div>
      <ProblemView error={statsError} />
      {stats ? (
        <>
          <p>
            In the window: {stats.window.created} created, {stats.window.completed} completed. All
            time: {stats.created} created, {stats.deleted} deleted, {stats.transitionsFired}{' '}
            transitions fired.
          </p>
          <div class="charts">
            <BarChart title="Tokens per place" items={barsOf(counts, def.places)} />
            <BarChart title="Transitions fired" items={barsOf(stats.transitions, transitionIds)} />
            <BarChart
              title="Average time in place"
              items={barsOf(stats.averageTimeInPlaceMs, def.places)}
              format={formatDuration}
            />
            <ColumnChart
              title="Throughput per hour"
              items={throughputOf(stats)}
              aName="created"
              bName="completed"
            />
          </div>
        </>
      ) : null}

      <h2>Versions</h2>
      <ul class="versions">
        {Array.from(
          { length: Math.min(latest ?? def.version, 50) },
          (_, i) => (latest ?? def.version) - i,
        ).map((v) => (
          <li key={v}>
            {v === def.version ? (
              <strong aria-current="page">version {v}</strong>
            ) : (
              <Link href={links.workflow(def.id, v)}>version {v}</Link>
            )}
            {v === latest ? ' (latest)' : ''}
          </li>
        ))}
      </ul>
    </section>
  );
}
