import { LeanKv, type RequestMux } from '@cb/nats';
import { compileValidator, TimerEntry, type Token, type TokenTimerView } from '@cb/schemas';
import type { Naming } from '@cb/subjects';

const checkEntry = compileValidator(TimerEntry);
/** A token read waits this long for its timers, then answers without them. */
const TIMERS_TIMEOUT_MS = 1000;
/** Definition versions remembered as with or without timed transitions (oldest forgotten first). */
const VERSIONS_LIMIT = 10_000;

/** Whether a definition version has timed transitions (versions are immutable). */
export type HasTimers = (tenant: string, workflowId: string, version: number) => Promise<boolean>;

/**
 * A token's pending timers, from the automation service's timers bucket: one direct get, made
 * only for tokens whose definition version has timed transitions (remembered per version), so
 * reads of other tokens cost nothing more. They are shown only while the entry is of the token's
 * current place entry, so a read model that lags the automation (or leads it) never shows another
 * place's timers. Best effort: no bucket (no automation worker ran yet), no entry, or no answer in
 * time means no `timers`; a token read never fails on them.
 */
export class TokenTimersReader {
  private readonly kv: LeanKv;
  private readonly versions = new Map<string, boolean>();

  constructor(
    mux: RequestMux,
    private readonly naming: Naming,
    private readonly hasTimers: HasTimers,
  ) {
    this.kv = new LeanKv(mux, naming.timersBucket);
  }

  /** The timers a read of `token` shows, or undefined when it has none. */
  async timersOf(
    tenant: string,
    token: Pick<Token, 'id' | 'workflowId' | 'definitionVersion' | 'place' | 'version'>,
  ): Promise<TokenTimerView[] | undefined> {
    if (!(await this.timed(tenant, token.workflowId, token.definitionVersion))) return undefined;
    return timersOf(token, await this.read(tenant, token.id));
  }

  private async timed(tenant: string, workflowId: string, version: number): Promise<boolean> {
    const key = `${tenant}=${workflowId}=${version}`;
    const known = this.versions.get(key);
    if (known !== undefined) return known;
    // Unknown (the definition could not be read): look, without remembering.
    const timed = await this.hasTimers(tenant, workflowId, version).catch(() => null);
    if (timed === null) return true;
    this.versions.set(key, timed);
    if (this.versions.size > VERSIONS_LIMIT)
      this.versions.delete(this.versions.keys().next().value!);
    return timed;
  }

  private async read(tenant: string, tokenId: string): Promise<TimerEntry | null> {
    try {
      const e = await this.kv.get(this.naming.timerKey(tenant, tokenId), TIMERS_TIMEOUT_MS);
      const entry = e?.operation === 'PUT' ? e.json<unknown>() : undefined;
      return checkEntry.check(entry) ? entry : null;
    } catch {
      return null;
    }
  }
}

/** The timers a read of `token` shows from `entry`, or undefined when none apply. */
export function timersOf(
  token: Pick<Token, 'place' | 'version'>,
  entry: TimerEntry | null,
): TokenTimerView[] | undefined {
  if (
    entry?.status !== 'live' ||
    entry.timers.length === 0 ||
    entry.place !== token.place ||
    entry.enteredSeq > token.version
  ) {
    return undefined;
  }
  return entry.timers.map((t) => {
    const failed = entry.failed.find(
      (f) => f.transition === t.transition && f.armedBy === t.armedBy && f.dueAt === t.dueAt,
    );
    return {
      transition: t.transition,
      dueAt: t.dueAt,
      ...(failed ? { lastError: failed.error } : {}),
    };
  });
}
