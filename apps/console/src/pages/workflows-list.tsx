import { useEffect, useState } from 'preact/hooks';
import { get, type StatsResponse, type WorkflowPage, type WorkflowResource } from '../api';
import { ProblemView } from '../components/problem-view';
import { mapBounded } from '../live/stats-view';
import { Link, links } from '../router';
import { useSession } from '../session-context';

/** The list reads at most this many workflows (cursor pages of PAGE). */
export const MAX_WORKFLOWS = 1000;
const PAGE = 200;
/** Totals refresh this often; stats reads run at most STATS_CONCURRENCY at a time. */
const POLL_MS = 5000;
const STATS_CONCURRENCY = 4;

type Totals = Pick<StatsResponse, 'totalTokens' | 'transitionsFired' | 'completed'>;

async function allWorkflows(
  signal: AbortSignal,
): Promise<{ items: WorkflowResource[]; more: boolean }> {
  const items: WorkflowResource[] = [];
  let cursor: string | undefined;
  do {
    const page = await get<WorkflowPage>('/v1/workflows', { limit: PAGE, cursor }, signal);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined && items.length < MAX_WORKFLOWS && !signal.aborted);
  return { items: items.slice(0, MAX_WORKFLOWS), more: cursor !== undefined };
}

/**
 * Every workflow with its id, name and live totals. Totals are polled (bounded concurrency),
 * not streamed: one SSE stream per workflow would take the browser's few connections per host.
 */
export function WorkflowsListPage() {
  const { can } = useSession();
  const [list, setList] = useState<{ items: WorkflowResource[]; more: boolean }>();
  const [error, setError] = useState<unknown>();
  const [totals, setTotals] = useState<Record<string, Totals | 'error'>>({});

  useEffect(() => {
    const ac = new AbortController();
    allWorkflows(ac.signal)
      .then(setList)
      .catch((err: unknown) => {
        if (!ac.signal.aborted) setError(err);
      });
    return () => ac.abort();
  }, []);

  useEffect(() => {
    if (!list || list.items.length === 0) return;
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      if (document.visibilityState !== 'hidden') {
        await mapBounded(list.items, STATS_CONCURRENCY, async (wf) => {
          if (ac.signal.aborted) return;
          try {
            const s = await get<StatsResponse>(
              `/v1/workflows/${encodeURIComponent(wf.id)}/stats`,
              undefined,
              ac.signal,
            );
            const t: Totals = {
              totalTokens: s.totalTokens,
              transitionsFired: s.transitionsFired,
              completed: s.completed,
            };
            setTotals((prev) => ({ ...prev, [wf.id]: t }));
          } catch {
            if (!ac.signal.aborted) setTotals((prev) => ({ ...prev, [wf.id]: 'error' }));
          }
        });
      }
      if (!ac.signal.aborted) timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      ac.abort();
      if (timer) clearTimeout(timer);
    };
  }, [list]);

  return (
    <section>
      <div class="toolbar">
        <h1>Workflows</h1>
        {can('workflows:write') ? (
          <Link class="button" href={links.newDefinition()}>
            New workflow
          </Link>
        ) : null}
      </div>
      <ProblemView error={error} />
      {!list && !error ? <p class="muted">Loading…</p> : null}
      {list && list.items.length === 0 ? <p>No workflows yet.</p> : null}
      {list && list.items.length > 0 ? (
        <div class="table-wrap">
          <table class="workflows">
            <thead>
              <tr>
                <th scope="col">Workflow</th>
                <th scope="col" class="num">
                  Tokens
                </th>
                <th scope="col" class="num">
                  Fired
                </th>
                <th scope="col" class="num">
                  Completed
                </th>
                <th scope="col" class="num">
                  Version
                </th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((wf) => {
                const t = totals[wf.id];
                const cell = (v: number | undefined) =>
                  t === 'error' ? '—' : v === undefined ? '…' : String(v);
                return (
                  <tr key={wf.id} data-workflow={wf.id}>
                    <td>
                      <Link class="wf-link" href={links.workflow(wf.id)}>
                        <span class="wf-name">{wf.name}</span> <code class="wf-id">{wf.id}</code>
                      </Link>
                    </td>
                    <td class="num" data-total={wf.id}>
                      {cell(t === 'error' ? undefined : t?.totalTokens)}
                    </td>
                    <td class="num">{cell(t === 'error' ? undefined : t?.transitionsFired)}</td>
                    <td class="num">{cell(t === 'error' ? undefined : t?.completed)}</td>
                    <td class="num">{wf.version}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {list?.more ? <p class="muted">Showing the first {MAX_WORKFLOWS} workflows.</p> : null}
    </section>
  );
}
