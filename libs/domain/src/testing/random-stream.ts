// Random but valid event streams for property-style specs (test-only): every event is decided by
// the real decider against the fixture workflows, with a seeded PRNG, so a failure replays.
import {
  type CbEvent,
  type JsonObject,
  type TokenCommand,
  type WorkflowDefinition,
} from '@cb/schemas';
import {
  decideTokenInProcess,
  decideWorkflow,
  evolveToken,
  type TokenStreamState,
} from '../decider';
import { compileWorkflow, type CompiledWorkflow } from '../workflow';
import { at, FIXTURES, fixture, type FixtureName } from './fixtures';

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32: tiny, fast and good enough for test data. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(items: readonly T[]) => items[int(items.length)] as T,
    chance: (p: number) => next() < p,
  };
}

export interface StreamOptions {
  commands: number;
  tokens: number;
}

export interface StoredEvent {
  seq: number;
  event: CbEvent;
}

// Fragments that satisfy (or, combined at random, fail) the fixtures' guards.
const DATA: JsonObject[] = [
  { payment_method: 'card' },
  { tests_passed: true },
  { tests_passed: false },
  { content: 'c', title: 't', word_count: 150 },
  { word_count: 50 },
  { document_type: 'article', word_count: 600 },
  { n: null },
];
const METADATA: JsonObject[] = [
  { reviewer: 'rita' },
  { qa_approved_by: 'quinn' },
  { emergency: true },
  { status: 'approved' },
];

/**
 * Decide `commands` random commands (creates, fires, updates and deletes over `tokens` token slots,
 * and now and then a new workflow version) and return the events they produce with stream seqs.
 * Rejected commands produce nothing, as in the command service. The clock mostly moves forward,
 * 10 minutes on average, and sometimes jumps back (clock skew between services).
 */
export function randomStream(seed: number, options: StreamOptions): StoredEvent[] {
  const random = seededRandom(seed);
  const events: StoredEvent[] = [];
  const latest = new Map<string, WorkflowDefinition>();
  const compiled = new Map<string, CompiledWorkflow>();
  const tokens = new Map<string, TokenStreamState>();
  const names = Object.keys(FIXTURES) as FixtureName[];
  const slots = Array.from({ length: options.tokens }, (_, i) => `tok-${i}`);
  const retired: string[] = [];
  let ms = 0;

  const record = (event: CbEvent) => events.push({ seq: events.length + 1, event });
  const context = () => ({ now: at(ms), eventId: `e${events.length + 1}`, newTokenId: 'unused' });
  const workflow = (id: string, version: number) => {
    const key = `${id}.v${version}`;
    let found = compiled.get(key);
    if (found === undefined) {
      const definition = latest.get(id);
      if (definition?.version !== version) throw new Error(`no ${key}`);
      found = compileWorkflow(definition);
      compiled.set(key, found);
    }
    return found;
  };
  const define = (name: FixtureName) => {
    const previous = latest.get(name) ?? null;
    const definition = fixture(name);
    if (previous !== null) {
      // Each version adds an archive place reachable from the initial place.
      const archive = `archived_v${previous.version + 1}`;
      definition.places.push(archive);
      definition.transitions.push({ id: 'archive', from: [definition.initialPlace], to: archive });
    }
    const mode = previous === null ? 'create' : 'version';
    const result = decideWorkflow(
      { type: 'DefineWorkflow', mode, definition },
      previous,
      context(),
    );
    if (!result.ok) throw result.error;
    record(result.value);
    latest.set(name, result.value.definition);
    workflow(name, result.value.definition.version);
  };
  const patch = (pool: JsonObject[]) =>
    random.chance(0.5) ? undefined : Object.assign({}, random.pick(pool), random.pick(pool));

  names.forEach(define);
  for (let i = 0; i < options.commands; i++) {
    ms += random.chance(0.03) ? -random.int(3 * 3_600_000) : random.int(20 * 60_000);
    if (random.chance(0.01)) {
      define(random.pick(names));
      continue;
    }
    const slot = random.int(options.tokens);
    // Now and then a command for a deleted token: rejected, so it must leave no trace.
    const tokenId = retired.length > 0 && random.chance(0.02) ? random.pick(retired) : slots[slot]!;
    const state = tokens.get(tokenId) ?? { status: 'absent' };
    const pinnedOf = (id: string, version: number) => workflow(id, version).definition;
    const { command, pinned } = pickCommand(random, tokenId, state, latest, pinnedOf, patch);
    const wf = pinned === null ? null : workflow(pinned.id, pinned.version);
    const result = decideTokenInProcess(command, state, wf, context());
    if (!result.ok) continue;
    record(result.value);
    tokens.set(tokenId, evolveToken(state, result.value));
    // A deleted id is never reused: its slot gets a fresh token id.
    if (result.value.type === 'token.deleted.v1') {
      retired.push(tokenId);
      slots[slot] = `tok-${slot}-${events.length}`;
    }
  }
  return events;
}

function pickCommand(
  random: Random,
  tokenId: string,
  state: TokenStreamState,
  latest: Map<string, WorkflowDefinition>,
  pinnedOf: (id: string, version: number) => WorkflowDefinition,
  patch: (pool: JsonObject[]) => JsonObject | undefined,
): { command: TokenCommand; pinned: { id: string; version: number } | null } {
  const fields = () => {
    const data = patch(DATA);
    const metadata = patch(METADATA);
    return {
      ...(data !== undefined && { data }),
      ...(metadata !== undefined && { metadata }),
    };
  };
  if (state.status === 'absent' || random.chance(0.02)) {
    // A create of an existing id is rejected (TOKEN_EXISTS): that is fine, it decides nothing.
    const definition = random.pick([...latest.values()]);
    const place = random.chance(0.2) ? { place: random.pick(definition.places) } : {};
    return {
      command: { type: 'CreateToken', workflowId: definition.id, tokenId, ...place, ...fields() },
      pinned: { id: definition.id, version: definition.version },
    };
  }
  const { token } = state;
  const address = { workflowId: token.workflowId, tokenId };
  const definition = pinnedOf(token.workflowId, token.definitionVersion);
  const enabled = definition.transitions.filter((t) => t.from.includes(token.place));
  const roll = random.next();
  // Tokens stuck in a final or dead-end place are deleted sooner, so slots keep moving.
  if (roll < (enabled.length === 0 ? 0.3 : 0.03)) {
    return { command: { type: 'DeleteToken', ...address }, pinned: null };
  }
  if (roll < 0.4) {
    return { command: { type: 'UpdateToken', ...address, data: { at: roll } }, pinned: null };
  }
  const transition =
    enabled.length > 0 && random.chance(0.9)
      ? random.pick(enabled).id
      : random.pick(definition.transitions).id;
  return {
    command: { type: 'FireTransition', ...address, transition, ...fields() },
    pinned: { id: token.workflowId, version: token.definitionVersion },
  };
}
