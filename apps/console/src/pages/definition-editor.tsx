import { useEffect, useRef, useState } from 'preact/hooks';
import { apiPath, get, request, send, type WorkflowResource } from '../api';
import type { DefinitionCheck } from '../api/page-types';
import { ProblemView } from '../components/problem-view';
import { MAX_EDITOR_CHARS, parseJsonObject, pretty } from '../lib/json-text';
import { Link, links, navigate } from '../router';
import { useSession } from '../session-context';
import type { PageProps } from './table';
import '../styles/pages.css';

/** Typing pauses this long before the definition is checked. */
const DEBOUNCE_MS = 400;

const STARTER = {
  id: 'my_workflow',
  name: 'My workflow',
  places: ['start', 'done'],
  initialPlace: 'start',
  finalPlaces: ['done'],
  transitions: [{ id: 'finish', from: ['start'], to: 'done' }],
};

/** A stored definition as the body of a new version: what the server adds is left out. */
export function editableDefinition(w: WorkflowResource): Record<string, unknown> {
  const { version: _v, createdAt: _c, analysis: _a, seq: _s, ...rest } = w;
  return rest;
}

export function NewDefinitionPage() {
  return <DefinitionEditor mode="create" />;
}

export function NewVersionPage({ params }: PageProps) {
  return <DefinitionEditor mode="version" wf={params['wf'] ?? ''} />;
}

/**
 * The definition editor: a JSON textarea (or an uploaded file), checked as the user types by
 * `POST /v1/workflow-validations` (errors with their paths, and the analysis), saved with
 * `POST /v1/workflows` (a new workflow) or `PUT /v1/workflows/:wf` with `If-Match` (a new
 * version of it, prefilled with the latest). Only with `workflows:write`.
 */
function DefinitionEditor({ mode, wf }: { mode: 'create' | 'version'; wf?: string }) {
  const { can } = useSession();
  const [text, setText] = useState(mode === 'create' ? pretty(STARTER) : '');
  const [latest, setLatest] = useState<WorkflowResource>();
  const [loadError, setLoadError] = useState<unknown>();
  const [parseError, setParseError] = useState<string>();
  const [check, setCheck] = useState<DefinitionCheck>();
  const [checkError, setCheckError] = useState<unknown>();
  const [checking, setChecking] = useState(false);
  const [saveError, setSaveError] = useState<unknown>();
  const [saving, setSaving] = useState(false);
  const [fileError, setFileError] = useState<string>();
  const pending = useRef<AbortController>();
  const allowed = can('workflows:write');

  useEffect(() => {
    if (mode !== 'version' || !wf || !allowed) return;
    get<WorkflowResource>(apiPath('/v1/workflows/{wf}', { wf }))
      .then((w) => {
        setLatest(w);
        setText(pretty(editableDefinition(w)));
      })
      .catch(setLoadError);
  }, [mode, wf, allowed]);

  // Live validation: debounced, the previous check aborted when a newer one starts.
  useEffect(() => {
    if (!allowed || text === '') return;
    const parsed = parseJsonObject(text);
    if (!parsed.ok) {
      setParseError(parsed.error);
      setCheck(undefined);
      return;
    }
    setParseError(undefined);
    const timer = setTimeout(() => {
      pending.current?.abort();
      const controller = new AbortController();
      pending.current = controller;
      setChecking(true);
      const body = mode === 'version' && wf ? { ...parsed.value, id: wf } : parsed.value;
      request<DefinitionCheck>('POST', '/v1/workflow-validations', {
        body,
        signal: controller.signal,
      })
        .then((res) => {
          setCheck(res.body);
          setCheckError(undefined);
        })
        .catch((err: unknown) => {
          if (!controller.signal.aborted) setCheckError(err);
        })
        .finally(() => {
          if (pending.current === controller) setChecking(false);
        });
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text, allowed]);

  useEffect(() => () => pending.current?.abort(), []);

  if (!allowed) {
    return (
      <section>
        <h1>{mode === 'create' ? 'New workflow' : `New version of ${wf ?? ''}`}</h1>
        <p>Defining workflows needs the scope workflows:write, which this session does not have.</p>
        <p>
          <Link href={links.workflows()}>Back to workflows</Link>
        </p>
      </section>
    );
  }

  async function upload(e: Event) {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    setFileError(undefined);
    if (!file) return;
    if (file.size > MAX_EDITOR_CHARS) {
      setFileError(`the file is too large (at most ${MAX_EDITOR_CHARS} bytes)`);
      return;
    }
    try {
      setText(await file.text());
    } catch (err) {
      setFileError(
        `the file could not be read: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    input.value = '';
  }

  async function save(e: Event) {
    e.preventDefault();
    setSaveError(undefined);
    const parsed = parseJsonObject(text);
    if (!parsed.ok) {
      setParseError(parsed.error);
      return;
    }
    setSaving(true);
    try {
      if (mode === 'create') {
        const w = await send<WorkflowResource>('POST', '/v1/workflows', parsed.value);
        navigate(links.workflow(w.id));
      } else if (wf && latest) {
        const w = await send<WorkflowResource>(
          'PUT',
          apiPath('/v1/workflows/{wf}', { wf }),
          parsed.value,
          { 'if-match': `"${latest.version}"` },
        );
        navigate(links.workflow(w.id, w.version));
      }
    } catch (err) {
      setSaveError(err);
    } finally {
      setSaving(false);
    }
  }

  const title = mode === 'create' ? 'New workflow' : `New version of ${wf ?? ''}`;
  return (
    <section class="definition-editor">
      <p class="crumbs">
        <Link href={links.workflows()}>Workflows</Link>
        {wf ? (
          <>
            {' '}
            / <Link href={links.workflow(wf)}>{wf}</Link>
          </>
        ) : null}
      </p>
      <h1>{title}</h1>
      {latest ? (
        <p class="muted">
          Based on version {latest.version}; saving makes version {latest.version + 1} (tokens keep
          the version they were created with).
        </p>
      ) : null}
      <ProblemView error={loadError} title="The workflow could not be read" />
      <form onSubmit={(e) => void save(e)}>
        <div class="field">
          <label for="definition-file">Upload definition JSON</label>
          <input
            id="definition-file"
            type="file"
            accept=".json,application/json"
            onChange={(e) => void upload(e)}
          />
          {fileError ? <p class="field-error">{fileError}</p> : null}
        </div>
        <div class="field">
          <label for="definition-json">Definition (JSON)</label>
          <textarea
            id="definition-json"
            rows={22}
            spellcheck={false}
            value={text}
            aria-invalid={parseError || (check && !check.valid) ? 'true' : 'false'}
            aria-describedby="definition-check"
            onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
          />
        </div>
        <div id="definition-check" class="check" aria-live="polite">
          {parseError ? (
            <p class="field-error">{parseError}</p>
          ) : checking && !check ? (
            <p class="muted">Checking…</p>
          ) : check ? (
            <CheckView check={check} stale={checking} />
          ) : null}
        </div>
        <ProblemView error={checkError} title="The definition could not be checked" />
        <ProblemView error={saveError} title="The definition was not saved" />
        <div class="toolbar">
          <button type="submit" disabled={saving || parseError !== undefined}>
            {saving ? 'Saving…' : mode === 'create' ? 'Save' : 'Save new version'}
          </button>
          {wf ? (
            <Link class="button secondary" href={links.workflow(wf)}>
              Cancel
            </Link>
          ) : null}
        </div>
      </form>
    </section>
  );
}

function CheckView({ check, stale }: { check: DefinitionCheck; stale: boolean }) {
  const a = check.analysis;
  return (
    <div class={stale ? 'stale' : ''}>
      {check.valid ? (
        <p class="ok-text">The definition is valid.</p>
      ) : (
        <>
          <p class="field-error">
            {check.errors.length === 1 ? '1 problem' : `${check.errors.length} problems`}:
          </p>
          <ul class="check-errors" aria-label="definition problems">
            {check.errors.map((e, i) => (
              <li key={i}>
                <code>{e.path || '(root)'}</code> {e.message}
                {e.code ? (
                  <>
                    {' '}
                    <span class="badge">{e.code}</span>
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        </>
      )}
      {a ? (
        <div class="analysis" aria-label="analysis">
          <p>
            Unreachable places:{' '}
            {a.unreachablePlaces.length > 0 ? a.unreachablePlaces.join(', ') : 'none'}
          </p>
          <p>Dead ends: {a.deadEndPlaces.length > 0 ? a.deadEndPlaces.join(', ') : 'none'}</p>
        </div>
      ) : null}
    </div>
  );
}
