import { useEffect, useState } from 'preact/hooks';
import { apiPath, get, request, send, type TokenPage, type WorkflowResource } from '../api';
import type { BulkFirePreview, BulkFireResult } from '../api/page-types';
import { ProblemView } from '../components/problem-view';
import {
  bulkFilter,
  filterProblems,
  rowsFromQuery,
  searchParams,
  type FilterRow,
} from '../lib/filters';
import { FIRST_PAGE, hasPrevious, nextPage, pageNumber, previousPage } from '../lib/pages';
import { shortJson, type Json } from '../lib/json-diff';
import { Link, links, navigate } from '../router';
import { useSession } from '../session-context';
import type { PageProps } from './table';
import '../styles/pages.css';

const PAGE_SIZE = 25;

/**
 * A place's tokens, a page at a time (Next / Previous over the API's cursors), filtered by
 * metadata and data values (the search route, `metadata.<k>=` / `data.<k>=`; declared search
 * attributes are served from an index), each linking to its page; with `tokens:write`, a bulk
 * fire of one of the place's transitions on the same filter, previewed before it is confirmed.
 */
export function PlacePage({ params, search }: PageProps) {
  const wf = params['wf'] ?? '';
  const place = params['place'] ?? '';
  const { can } = useSession();
  const [definition, setDefinition] = useState<WorkflowResource>();
  const [defError, setDefError] = useState<unknown>();
  const initial = rowsFromQuery(search);
  const [rows, setRows] = useState<FilterRow[]>(initial);
  const [applied, setApplied] = useState<FilterRow[]>(initial);
  const [page, setPage] = useState(FIRST_PAGE);
  const [tokens, setTokens] = useState<TokenPage>();
  const [listError, setListError] = useState<unknown>();

  useEffect(() => {
    get<WorkflowResource>(apiPath('/v1/workflows/{wf}', { wf }))
      .then(setDefinition)
      .catch(setDefError);
  }, [wf]);

  useEffect(() => {
    const controller = new AbortController();
    setListError(undefined);
    const filters = searchParams(applied);
    const filtered = Object.keys(filters).length > 0;
    const query = {
      place,
      limit: PAGE_SIZE,
      ...(page.cursor !== undefined ? { cursor: page.cursor } : {}),
      ...(filtered ? { workflowId: wf, ...filters } : {}),
    };
    get<TokenPage>(
      filtered ? '/v1/tokens' : apiPath('/v1/workflows/{wf}/tokens', { wf }),
      query,
      controller.signal,
    )
      .then(setTokens)
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setListError(err);
      });
    return () => controller.abort();
  }, [wf, place, applied, page]);

  const problems = filterProblems(rows);

  function apply(e: Event) {
    e.preventDefault();
    if (problems.length > 0) return;
    const kept = rows.filter((r) => r.key.trim() !== '' || r.value !== '');
    setApplied(kept);
    setPage(FIRST_PAGE);
    const q = new URLSearchParams(searchParams(kept)).toString();
    navigate(links.place(wf, place) + (q ? `?${q}` : ''), { replace: true });
  }

  const declared = new Set(definition?.searchAttributes ?? []);
  const fromHere = (definition?.transitions ?? []).filter((t) => t.from.includes(place));

  return (
    <section class="place-page">
      <p class="crumbs">
        <Link href={links.workflows()}>Workflows</Link> /{' '}
        <Link href={links.workflow(wf)}>{wf}</Link>
      </p>
      <h1>
        Place {place} <span class="muted">of {wf}</span>
      </h1>
      <ProblemView error={defError} title="The workflow could not be read" />

      <form class="filters" onSubmit={apply} aria-label="filter tokens">
        <h2>Filter</h2>
        <p class="muted">
          Tokens whose top-level metadata or data key has this value.
          {declared.size > 0 ? (
            <>
              {' '}
              Search attributes (indexed):{' '}
              {[...declared].map((a) => (
                <code key={a}>{a} </code>
              ))}
            </>
          ) : null}
        </p>
        {rows.map((row, i) => (
          <div class="filter-row" key={i}>
            <select
              aria-label={`Filter ${i + 1} scope`}
              value={row.scope}
              onChange={(e) =>
                setRows(
                  update(rows, i, {
                    scope: (e.target as HTMLSelectElement).value as FilterRow['scope'],
                  }),
                )
              }
            >
              <option value="metadata">metadata</option>
              <option value="data">data</option>
            </select>
            <input
              aria-label={`Filter ${i + 1} key`}
              placeholder="key"
              value={row.key}
              maxLength={128}
              onInput={(e) =>
                setRows(update(rows, i, { key: (e.target as HTMLInputElement).value }))
              }
            />
            <span aria-hidden="true">=</span>
            <input
              aria-label={`Filter ${i + 1} value`}
              placeholder="value"
              value={row.value}
              maxLength={1024}
              onInput={(e) =>
                setRows(update(rows, i, { value: (e.target as HTMLInputElement).value }))
              }
            />
            <button
              type="button"
              class="secondary"
              aria-label={`Remove filter ${i + 1}`}
              onClick={() => setRows(rows.filter((_, k) => k !== i))}
            >
              ×
            </button>
          </div>
        ))}
        {problems.map((p) => (
          <p class="field-error" key={`${p.row}-${p.message}`}>
            Filter {p.row + 1}: {p.message}
          </p>
        ))}
        <div class="toolbar">
          <button
            type="button"
            class="secondary"
            onClick={() => setRows([...rows, { scope: 'metadata', key: '', value: '' }])}
          >
            Add filter
          </button>
          <button type="submit" disabled={problems.length > 0}>
            Apply filters
          </button>
        </div>
      </form>

      <h2>Tokens</h2>
      <ProblemView error={listError} title="The tokens could not be listed" />
      {tokens ? (
        tokens.items.length === 0 ? (
          <p class="muted">
            No tokens{applied.length > 0 ? ' match the filter' : ' in this place'}.
          </p>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>token</th>
                  <th class="num">version</th>
                  <th>updated</th>
                  <th>metadata</th>
                </tr>
              </thead>
              <tbody>
                {tokens.items.map((t) => (
                  <tr key={t.id}>
                    <td>
                      <Link href={links.token(wf, t.id)}>{t.id}</Link>
                    </td>
                    <td class="num">{t.version}</td>
                    <td>
                      <time dateTime={t.updatedAt}>{new Date(t.updatedAt).toLocaleString()}</time>
                    </td>
                    <td>
                      <code>{shortJson(t.metadata as Json, 60)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : listError ? null : (
        <p class="muted">Loading…</p>
      )}
      <nav class="toolbar" aria-label="pages">
        <button
          type="button"
          class="secondary"
          disabled={!hasPrevious(page)}
          onClick={() => setPage(previousPage(page))}
        >
          Previous
        </button>
        <span class="muted">page {pageNumber(page)}</span>
        <button
          type="button"
          class="secondary"
          disabled={!tokens?.nextCursor}
          onClick={() => tokens?.nextCursor && setPage(nextPage(page, tokens.nextCursor))}
        >
          Next
        </button>
      </nav>

      {can('tokens:write') && definition ? (
        <BulkFire wf={wf} place={place} transitions={fromHere.map((t) => t.id)} rows={applied} />
      ) : null}
    </section>
  );
}

/** A fresh Idempotency-Key (getRandomValues: randomUUID needs a secure context, plain http may not be one). */
function idempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function update(rows: FilterRow[], i: number, patch: Partial<FilterRow>): FilterRow[] {
  return rows.map((r, k) => (k === i ? { ...r, ...patch } : r));
}

/** Choose a transition, preview how many tokens match, confirm, read the report. */
function BulkFire({
  wf,
  place,
  transitions,
  rows,
}: {
  wf: string;
  place: string;
  transitions: string[];
  rows: FilterRow[];
}) {
  const [transition, setTransition] = useState(transitions[0] ?? '');
  const [preview, setPreview] = useState<BulkFirePreview>();
  const [report, setReport] = useState<BulkFireResult>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const filter = bulkFilter(rows);
  const body = { transition, place, ...(filter ? { filter } : {}) };
  const key = JSON.stringify(body);

  // A new transition or filter needs a new preview.
  useEffect(() => {
    setPreview(undefined);
    setReport(undefined);
    setError(undefined);
  }, [key]);

  if (transitions.length === 0) {
    return (
      <section class="bulk">
        <h2>Bulk fire</h2>
        <p class="muted">No transition fires from {place}.</p>
      </section>
    );
  }

  async function doPreview() {
    setError(undefined);
    setReport(undefined);
    setBusy(true);
    try {
      setPreview(
        await send<BulkFirePreview>(
          'POST',
          apiPath('/v1/workflows/{wf}/bulk-fire/preview', { wf }),
          body,
        ),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function fire(cursor?: string) {
    setError(undefined);
    setBusy(true);
    try {
      const res = await request<BulkFireResult>(
        'POST',
        apiPath('/v1/workflows/{wf}/bulk-fire', { wf }),
        {
          body: { ...body, ...(cursor ? { cursor } : {}) },
          headers: { 'idempotency-key': idempotencyKey() },
        },
      );
      setReport(res.body);
      setPreview(undefined);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="bulk" aria-label="bulk fire">
      <h2>Bulk fire</h2>
      <p class="muted">
        Fires the transition on every token in {place} matching the filter above
        {filter ? '' : ' (no filter: every token here)'}. Values written as JSON (<code>1</code>,{' '}
        <code>true</code>, <code>"1"</code>) compare with their type.
      </p>
      <div class="toolbar">
        <label for="bulk-transition">Transition to fire</label>
        <select
          id="bulk-transition"
          value={transition}
          onChange={(e) => setTransition((e.target as HTMLSelectElement).value)}
        >
          {transitions.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <button type="button" class="secondary" disabled={busy} onClick={() => void doPreview()}>
          Preview bulk fire
        </button>
      </div>
      <ProblemView error={error} title="Bulk fire" />
      {preview ? (
        <div class="confirm" role="group" aria-label="confirm bulk fire">
          <p role="status">
            {preview.capped ? 'At least ' : ''}
            {preview.matched} {preview.matched === 1 ? 'token matches' : 'tokens match'}
            {preview.capped ? ' (more than one request fires; continue from the report)' : ''}.
            Guards are checked as each token fires.
          </p>
          {preview.matched > 0 ? (
            <div class="toolbar">
              <button type="button" class="danger" disabled={busy} onClick={() => void fire()}>
                Confirm: fire {transition} on {preview.capped ? 'the first ' : ''}
                {preview.matched} {preview.matched === 1 ? 'token' : 'tokens'}
              </button>
              <button type="button" class="secondary" onClick={() => setPreview(undefined)}>
                Cancel
              </button>
            </div>
          ) : null}
        </div>
      ) : null}
      {report ? (
        <div class="report" role="status" aria-label="bulk fire report">
          <p>
            Tried {report.matched}: {report.succeeded} fired, {report.failed} failed
            {report.replayed > 0 ? `, ${report.replayed} already fired` : ''}.
          </p>
          {report.errors.length > 0 ? (
            <ul class="reasons">
              {report.errors.slice(0, 100).map((e) => (
                <li key={e.tokenId}>
                  <Link href={links.token(wf, e.tokenId)}>{e.tokenId}</Link> <code>{e.code}</code>{' '}
                  {e.message}
                </li>
              ))}
              {report.errors.length > 100 ? <li>and {report.errors.length - 100} more</li> : null}
            </ul>
          ) : null}
          {report.truncated && report.nextCursor ? (
            <button type="button" disabled={busy} onClick={() => void fire(report.nextCursor)}>
              Continue bulk fire
            </button>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
