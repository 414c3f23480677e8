import { useEffect, useState } from 'preact/hooks';
import {
  ApiProblem,
  apiPath,
  get,
  send,
  type HistoryPage,
  type Token,
  type TransitionAvailability,
} from '../api';
import { ProblemView } from '../components/problem-view';
import { timeline, type HistoryItem, type TimelineEntry } from '../lib/history';
import { shortJson } from '../lib/json-diff';
import { parseJsonObject, pretty } from '../lib/json-text';
import { Link, links } from '../router';
import { useSession } from '../session-context';
import type { PageProps } from './table';
import '../styles/pages.css';

const TOKEN = '/v1/workflows/{wf}/tokens/{tok}';
const HISTORY_PAGE = 200;

/** `If-Match` for a version (the token's ETag). */
const ifMatch = (version: number) => ({ 'if-match': `"${version}"` });

/**
 * One token: its data and metadata, version and place, pending timers, the history as a
 * timeline, the transitions it could take (and why the others are disabled), and — with
 * `tokens:write` — fire, merge-patch and delete, each sending `If-Match` with the version shown.
 */
export function TokenPage({ params }: PageProps) {
  const wf = params['wf'] ?? '';
  const tok = params['tok'] ?? '';
  const { can } = useSession();
  const writable = can('tokens:write');
  const [token, setToken] = useState<Token>();
  const [loadError, setLoadError] = useState<unknown>();
  const [transitions, setTransitions] = useState<TransitionAvailability[]>();
  const [transitionsError, setTransitionsError] = useState<unknown>();
  const [history, setHistory] = useState<HistoryItem[]>([]);
  const [historyCursor, setHistoryCursor] = useState<string>();
  const [historyError, setHistoryError] = useState<unknown>();
  const [deleted, setDeleted] = useState(false);
  const [notice, setNotice] = useState<string>();

  const path = apiPath(TOKEN, { wf, tok });

  async function loadTransitions(minSeq?: number) {
    setTransitionsError(undefined);
    try {
      const page = await get<{ items: TransitionAvailability[] }>(
        `${path}/transitions`,
        minSeq !== undefined ? { minSeq } : undefined,
      );
      setTransitions(page.items);
    } catch (err) {
      setTransitionsError(err);
    }
  }

  async function loadHistory(cursor?: string) {
    setHistoryError(undefined);
    try {
      const page = await get<HistoryPage>(`${path}/history`, {
        limit: HISTORY_PAGE,
        ...(cursor ? { cursor } : {}),
      });
      const items = page.items as unknown as HistoryItem[];
      setHistory((old) => (cursor ? [...old, ...items] : items));
      setHistoryCursor(page.nextCursor);
    } catch (err) {
      setHistoryError(err);
    }
  }

  async function load(minSeq?: number) {
    setLoadError(undefined);
    try {
      setToken(await get<Token>(path, minSeq !== undefined ? { minSeq } : undefined));
    } catch (err) {
      setLoadError(err);
      return;
    }
    await Promise.all([loadTransitions(minSeq), loadHistory()]);
  }

  useEffect(() => {
    void load();
  }, [path]);

  /** After a write: show the new token at once, then what follows from it (read-your-writes). */
  function written(next: Token, message: string) {
    setToken(next);
    setNotice(`${message}: now in ${next.place}, version ${next.version}`);
    void loadTransitions(next.version);
    void loadHistory();
  }

  if (deleted) {
    return (
      <section>
        <h1>Token {tok}</h1>
        <p role="status">Token {tok} was deleted (its history stays in the stream).</p>
        <p>
          <Link href={links.workflow(wf)}>Back to workflow {wf}</Link>
        </p>
      </section>
    );
  }

  return (
    <section class="token-page">
      <p class="crumbs">
        <Link href={links.workflows()}>Workflows</Link> /{' '}
        <Link href={links.workflow(wf)}>{wf}</Link>
        {token ? (
          <>
            {' '}
            / <Link href={links.place(wf, token.place)}>{token.place}</Link>
          </>
        ) : null}
      </p>
      <h1>Token {tok}</h1>
      <ProblemView error={loadError} title="The token could not be read" />
      {token ? (
        <>
          <dl class="facts">
            <dt>place</dt>
            <dd>
              <Link href={links.place(wf, token.place)}>{token.place}</Link>
            </dd>
            <dt>version</dt>
            <dd data-version={token.version}>version {token.version}</dd>
            <dt>definition</dt>
            <dd>version {token.definitionVersion}</dd>
            <dt>in place since</dt>
            <dd>
              <time dateTime={token.placeEnteredAt}>{when(token.placeEnteredAt)}</time>
            </dd>
            <dt>updated</dt>
            <dd>
              <time dateTime={token.updatedAt}>{when(token.updatedAt)}</time>
            </dd>
          </dl>
          {notice ? (
            <p class="notice" role="status">
              {notice}
            </p>
          ) : null}
          <div class="two-col">
            <div>
              <h2>Data</h2>
              <pre class="json" aria-label="token data">
                {pretty(token.data)}
              </pre>
            </div>
            <div>
              <h2>Metadata</h2>
              <pre class="json" aria-label="token metadata">
                {pretty(token.metadata)}
              </pre>
            </div>
          </div>
          {token.timers && token.timers.length > 0 ? (
            <>
              <h2>Pending timers</h2>
              <ul>
                {token.timers.map((t) => (
                  <li key={t.transition}>
                    <code>{t.transition}</code> due <time dateTime={t.dueAt}>{when(t.dueAt)}</time>
                    {t.lastError ? <span class="muted"> — last attempt: {t.lastError}</span> : null}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          <Transitions
            list={transitions}
            error={transitionsError}
            writable={writable}
            token={token}
            path={path}
            onFired={(next, id) => written(next, `Fired ${id}`)}
          />
          {writable ? (
            <PatchEditor token={token} path={path} onPatched={(next) => written(next, 'Patched')} />
          ) : null}
          {writable ? (
            <DeleteToken
              token={token}
              path={path}
              onDeleted={() => {
                setDeleted(true);
              }}
              onStale={() => void load()}
            />
          ) : null}
        </>
      ) : null}
      <h2>History</h2>
      <ProblemView error={historyError} title="The history could not be read" />
      <Timeline entries={timeline(history)} />
      {historyCursor ? (
        <button type="button" class="secondary" onClick={() => void loadHistory(historyCursor)}>
          Older events
        </button>
      ) : null}
    </section>
  );
}

function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function Transitions({
  list,
  error,
  writable,
  token,
  path,
  onFired,
}: {
  list: TransitionAvailability[] | undefined;
  error: unknown;
  writable: boolean;
  token: Token;
  path: string;
  onFired: (next: Token, transition: string) => void;
}) {
  const [patchText, setPatchText] = useState('');
  const [patchError, setPatchError] = useState<string>();
  const [fireError, setFireError] = useState<unknown>();
  const [busy, setBusy] = useState<string>();

  async function fire(id: string) {
    setFireError(undefined);
    const patch = parseJsonObject(patchText, true);
    if (!patch.ok) {
      setPatchError(patch.error);
      return;
    }
    setPatchError(undefined);
    setBusy(id);
    try {
      const next = await send<Token>(
        'POST',
        `${path}/fire`,
        { transition: id, ...(patch.value !== undefined ? { data: patch.value } : {}) },
        ifMatch(token.version),
      );
      setPatchText('');
      onFired(next, id);
    } catch (err) {
      setFireError(err);
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <>
      <h2>Transitions</h2>
      <ProblemView error={error} title="The transitions could not be read" />
      {writable ? (
        <div class="field">
          <label for="fire-patch">Data patch for the fire (optional JSON object)</label>
          <textarea
            id="fire-patch"
            rows={3}
            value={patchText}
            placeholder='{ "approved_by": "me" }'
            aria-invalid={patchError ? 'true' : 'false'}
            aria-describedby={patchError ? 'fire-patch-error' : undefined}
            onInput={(e) => setPatchText((e.target as HTMLTextAreaElement).value)}
          />
          {patchError ? (
            <p id="fire-patch-error" class="field-error">
              {patchError}
            </p>
          ) : null}
        </div>
      ) : null}
      <ProblemView error={fireError} title="The transition did not fire" />
      {list === undefined ? (
        <p class="muted">Loading…</p>
      ) : list.length === 0 ? (
        <p class="muted">The definition has no transitions.</p>
      ) : (
        <ul class="transitions">
          {list.map((t) => (
            <li key={t.id} class={t.enabled ? 'enabled' : 'disabled'}>
              <div class="transition-head">
                <code>{t.id}</code>{' '}
                <span class="muted">
                  {t.from.join(', ')} → {t.to}
                </span>{' '}
                {t.enabled ? (
                  <span class="badge ok">enabled</span>
                ) : (
                  <span class="badge">disabled</span>
                )}
                {writable && t.enabled ? (
                  <button
                    type="button"
                    disabled={busy !== undefined}
                    aria-label={`Fire ${t.id}`}
                    onClick={() => void fire(t.id)}
                  >
                    {busy === t.id ? 'Firing…' : `Fire ${t.id}`}
                  </button>
                ) : null}
              </div>
              {t.description ? <p class="muted">{t.description}</p> : null}
              {!t.enabled && t.reasons.length > 0 ? (
                <ul class="reasons" aria-label={`why ${t.id} is disabled`}>
                  {t.reasons.map((r, i) => (
                    <li key={i}>
                      <code>{r.code}</code> {r.message}
                      {r.code === 'GUARD_FAILED' ? (
                        <ul>
                          {r.failures.map((f, k) => (
                            <li key={k}>
                              <code>{f.path || '(root)'}</code> {f.message}
                            </li>
                          ))}
                          {r.failureCount > r.failures.length ? (
                            <li>and {r.failureCount - r.failures.length} more</li>
                          ) : null}
                        </ul>
                      ) : null}
                    </li>
                  ))}
                </ul>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** JSON merge patches (RFC 7386) of data and metadata, sent with If-Match. */
function PatchEditor({
  token,
  path,
  onPatched,
}: {
  token: Token;
  path: string;
  onPatched: (next: Token) => void;
}) {
  const [data, setData] = useState('');
  const [metadata, setMetadata] = useState('');
  const [local, setLocal] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setError(undefined);
    const d = parseJsonObject(data, true);
    const m = parseJsonObject(metadata, true);
    if (!d.ok || !m.ok) {
      setLocal(!d.ok ? `data: ${d.error}` : !m.ok ? `metadata: ${m.error}` : undefined);
      return;
    }
    if (d.value === undefined && m.value === undefined) {
      setLocal('enter a data or a metadata patch');
      return;
    }
    setLocal(undefined);
    setBusy(true);
    try {
      const next = await send<Token>(
        'PATCH',
        path,
        {
          ...(d.value !== undefined ? { data: d.value } : {}),
          ...(m.value !== undefined ? { metadata: m.value } : {}),
        },
        ifMatch(token.version),
      );
      setData('');
      setMetadata('');
      onPatched(next);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="patch" onSubmit={(e) => void submit(e)}>
      <h2>Patch</h2>
      <p class="muted">
        JSON merge patches: a key set to <code>null</code> is removed, objects merge, anything else
        replaces.
      </p>
      <div class="two-col">
        <div class="field">
          <label for="patch-data">Patch data (JSON merge patch)</label>
          <textarea
            id="patch-data"
            rows={4}
            value={data}
            placeholder={'{ "total": 30 }'}
            onInput={(e) => setData((e.target as HTMLTextAreaElement).value)}
          />
        </div>
        <div class="field">
          <label for="patch-metadata">Patch metadata (JSON merge patch)</label>
          <textarea
            id="patch-metadata"
            rows={4}
            value={metadata}
            placeholder={'{ "priority": "high" }'}
            onInput={(e) => setMetadata((e.target as HTMLTextAreaElement).value)}
          />
        </div>
      </div>
      {local ? <p class="field-error">{local}</p> : null}
      <ProblemView error={error} title="The patch was not applied" />
      <button type="submit" disabled={busy}>
        {busy ? 'Patching…' : 'Apply patch'}
      </button>
    </form>
  );
}

/** Delete in two steps: "Delete token", then "Confirm delete" (or "Cancel"). */
function DeleteToken({
  token,
  path,
  onDeleted,
  onStale,
}: {
  token: Token;
  path: string;
  onDeleted: () => void;
  onStale: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  async function remove() {
    setError(undefined);
    setBusy(true);
    try {
      await send('DELETE', path, undefined, ifMatch(token.version));
      onDeleted();
    } catch (err) {
      setError(err);
      if (err instanceof ApiProblem && err.status === 412) onStale();
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="danger-zone">
      <h2>Delete</h2>
      <ProblemView error={error} title="The token was not deleted" />
      {confirming ? (
        <div class="toolbar" role="group" aria-label="confirm delete">
          <span>
            Delete token <code>{token.id}</code> at version {token.version}? Its history stays in
            the stream.
          </span>
          <button type="button" class="danger" disabled={busy} onClick={() => void remove()}>
            Confirm delete
          </button>
          <button type="button" class="secondary" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Delete token
        </button>
      )}
    </div>
  );
}

function Timeline({ entries }: { entries: TimelineEntry[] }) {
  if (entries.length === 0) return <p class="muted">No events.</p>;
  return (
    <ol class="timeline" aria-label="history">
      {entries.map((e) => (
        <li key={e.seq}>
          <p class="timeline-head">
            <strong>{e.what}</strong>{' '}
            <span class="muted">
              by {e.who}, <time dateTime={e.at}>{when(e.at)}</time> (seq {e.seq})
            </span>
          </p>
          {e.patch ? (
            <p class="muted">
              patch <code>{shortJson(e.patch as Parameters<typeof shortJson>[0], 200)}</code>
            </p>
          ) : null}
          {e.changes.length > 0 ? (
            <ul class="changes">
              {e.changes.map((c) => (
                <li key={c.path} class={`change ${c.kind}`}>
                  <code>{c.path}</code>{' '}
                  {c.kind === 'added'
                    ? `+ ${shortJson(c.after)}`
                    : c.kind === 'removed'
                      ? `− ${shortJson(c.before)}`
                      : `${shortJson(c.before)} → ${shortJson(c.after)}`}
                </li>
              ))}
            </ul>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
