import {
  compileWorkflow,
  decideTokenInProcess,
  decideWorkflow,
  type CompiledWorkflow,
  type TokenStreamState,
} from '@cb/domain';
import type { TokenCommand, WorkflowDefinitionInput } from '@cb/schemas';
import { DEFAULT_TENANT, type Naming } from '@cb/subjects';
import { prng } from './prng';

/** Where events go: the event store's `append` (structurally; no dependency on the NATS lib). */
export interface EventSink {
  append(
    subject: string,
    event: unknown,
    options: { expectedLastSubjectSeq: number },
  ): Promise<{ seq: number }>;
}

export interface GeneratorOptions {
  store: EventSink;
  naming: Naming;
  /** The tenant every event is written in (default `default`). */
  tenant?: string;
  workflows: WorkflowDefinitionInput[];
  seed?: number;
  /** Tokens alive at once (default 200). */
  tokens?: number;
  /** Tokens written concurrently; each token's own commands stay sequential (default 16). */
  concurrency?: number;
}

export interface GeneratorResult {
  commands: number;
  events: number;
  rejected: number;
  lastSeq: number;
}

interface Slot {
  workflow: CompiledWorkflow;
  tokenId: string;
  state: TokenStreamState;
  version: number;
}

/**
 * Writes a realistic, reproducible event history through the real decider: tokens are
 * created, fired (guards pass or fail depending on the random data sent along), patched and
 * sometimes deleted, each event appended with the expected last subject sequence like the
 * command service does. For projection tests and benchmarks.
 */
export class EventGenerator {
  private readonly random: () => number;
  private readonly compiled: CompiledWorkflow[] = [];
  private slots: Slot[] = [];
  private counter = 0;
  private lastSeq = 0;

  constructor(private readonly o: GeneratorOptions) {
    this.random = prng(o.seed ?? 1);
  }

  private get tenant(): string {
    return this.o.tenant ?? DEFAULT_TENANT;
  }

  /** Publish the workflow definitions (version 1 each). */
  async defineWorkflows(): Promise<void> {
    for (const def of this.o.workflows) {
      const decision = decideWorkflow(
        { type: 'DefineWorkflow', mode: 'create', definition: def },
        null,
        this.context(),
      );
      if (!decision.ok) throw decision.error;
      const ack = await this.o.store.append(
        this.o.naming.workflowSubject(this.tenant, def.id),
        decision.value,
        { expectedLastSubjectSeq: 0 },
      );
      this.lastSeq = Math.max(this.lastSeq, ack.seq);
      this.compiled.push(compileWorkflow(decision.value.definition));
    }
  }

  /** Work with definitions another generator already published (as version 1). */
  adoptWorkflows(): void {
    for (const def of this.o.workflows) {
      this.compiled.push(
        compileWorkflow({ ...def, version: 1, createdAt: '2026-01-01T00:00:00.000Z' }),
      );
    }
  }

  /** Run random commands until `events` of them were accepted (each produced an event). */
  async runUntilEvents(events: number): Promise<GeneratorResult> {
    const total: GeneratorResult = { commands: 0, events: 0, rejected: 0, lastSeq: 0 };
    while (total.events < events) {
      const r = await this.run(Math.max(16, events - total.events));
      total.commands += r.commands;
      total.events += r.events;
      total.rejected += r.rejected;
      total.lastSeq = r.lastSeq;
    }
    return total;
  }

  /** Run `commands` random commands; resolves when all their events are stored. */
  async run(commands: number): Promise<GeneratorResult> {
    const result: GeneratorResult = { commands: 0, events: 0, rejected: 0, lastSeq: 0 };
    const concurrency = this.o.concurrency ?? 16;
    const poolSize = this.o.tokens ?? 200;
    let issued = 0;
    const busy = new Set<number>();
    const lane = async (): Promise<void> => {
      while (issued < commands) {
        issued++;
        let index = Math.floor(this.random() * poolSize);
        while (busy.has(index)) index = (index + 1) % poolSize;
        busy.add(index);
        try {
          const ok = await this.step(index);
          result.commands++;
          if (ok) result.events++;
          else result.rejected++;
        } finally {
          busy.delete(index);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, poolSize) }, lane));
    result.lastSeq = this.lastSeq;
    return result;
  }

  private async step(index: number): Promise<boolean> {
    let slot = this.slots[index];
    if (!slot || slot.state.status === 'deleted') {
      const workflow = this.compiled[Math.floor(this.random() * this.compiled.length)]!;
      slot = {
        workflow,
        tokenId: `t${this.counter++}-${Math.floor(this.random() * 1e9).toString(36)}`,
        state: { status: 'absent' },
        version: 0,
      };
      this.slots[index] = slot;
    }
    const command = this.nextCommand(slot);
    const decision = decideTokenInProcess(
      command,
      slot.state,
      slot.workflow,
      this.context(slot.tokenId),
    );
    if (!decision.ok) return false;
    const event = decision.value;
    const ack = await this.o.store.append(
      this.o.naming.tokenSubject(this.tenant, event.workflowId, event.tokenId),
      event,
      {
        expectedLastSubjectSeq: slot.version,
      },
    );
    slot.version = ack.seq;
    slot.state =
      event.type === 'token.deleted.v1'
        ? { status: 'deleted', token: event.state }
        : { status: 'live', token: event.state };
    this.lastSeq = Math.max(this.lastSeq, ack.seq);
    return true;
  }

  private nextCommand(slot: Slot): TokenCommand {
    const workflowId = slot.workflow.definition.id;
    const tokenId = slot.tokenId;
    if (slot.state.status !== 'live') {
      return {
        type: 'CreateToken',
        workflowId,
        tokenId,
        data: this.data(),
        metadata: this.metadata(),
      };
    }
    const roll = this.random();
    if (roll < 0.03) return { type: 'DeleteToken', workflowId, tokenId };
    if (roll < 0.15) return { type: 'UpdateToken', workflowId, tokenId, data: this.data() };
    const place = slot.state.token.place;
    const candidates = slot.workflow.definition.transitions.filter((t) => t.from.includes(place));
    const pick = candidates.length
      ? candidates[Math.floor(this.random() * candidates.length)]!
      : slot.workflow.definition.transitions[0]!;
    return {
      type: 'FireTransition',
      workflowId,
      tokenId,
      transition: pick.id,
      ...(this.random() < 0.7 ? { data: this.data() } : {}),
      ...(this.random() < 0.6 ? { metadata: this.metadata() } : {}),
    };
  }

  /** Values the fixture guards look at, each present or not at random. */
  private data(): Record<string, unknown> {
    const r = this.random;
    const out: Record<string, unknown> = {};
    if (r() < 0.7) out.title = `title ${Math.floor(r() * 1000)}`;
    if (r() < 0.7) out.content = 'lorem ipsum';
    if (r() < 0.8) out.word_count = Math.floor(r() * 1200);
    if (r() < 0.5) out.document_type = r() < 0.8 ? 'article' : 'memo';
    if (r() < 0.6) out.payment_method = 'card';
    if (r() < 0.6) out.tests_passed = r() < 0.8;
    if (r() < 0.2) out.note = null;
    return out;
  }

  private metadata(): Record<string, unknown> {
    const r = this.random;
    const out: Record<string, unknown> = {};
    if (r() < 0.6) out.reviewer = 'ann';
    if (r() < 0.5) out.status = r() < 0.7 ? 'approved' : 'draft';
    if (r() < 0.1) out.emergency = true;
    if (r() < 0.5) out.qa_approved_by = 'qa';
    return out;
  }

  private context(newTokenId = '') {
    const now = new Date(
      Date.UTC(2026, 0, 1) + this.counter * 1000 + Math.floor(this.random() * 1000),
    ).toISOString();
    return {
      now,
      eventId: `e${this.counter}-${Math.floor(this.random() * 1e9)}`,
      newTokenId,
      principal: { tenant: this.tenant, keyId: 'root' },
    };
  }
}
