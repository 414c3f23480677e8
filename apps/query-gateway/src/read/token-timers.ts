import { LeanKv, type RequestMux } from '@cb/nats';
import { compileValidator, TimerEntry, type Token, type TokenTimerView } from '@cb/schemas';
import type { Naming } from '@cb/subjects';

const checkEntry = compileValidator(TimerEntry);
/** A token read waits this long for its timers, then answers without them. */
const TIMERS_TIMEOUT_MS = 1000;

/**
 * A token's pending timers, from the automation service's timers bucket (one direct get, made
 * beside the token read). They are shown only while the entry is of the token's current place
 * entry, so a read model that lags the automation (or leads it) never shows another place's
 * timers. Best effort: no bucket (no automation worker ran yet), no entry, or no answer in time
 * means no `timers`; a token read never fails on them.
 */
export class TokenTimersReader {
  private readonly kv: LeanKv;

  constructor(
    mux: RequestMux,
    private readonly naming: Naming,
  ) {
    this.kv = new LeanKv(mux, naming.timersBucket);
  }

  /** The entry as read now; apply it to the token with `timersOf`. */
  async read(tenant: string, tokenId: string): Promise<TimerEntry | null> {
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
