import type { Logger } from '@cb/logging';
import { classifyNatsError, type RequestMux } from '@cb/nats';
import type { Naming } from '@cb/subjects';
import { CommandHealth } from './command-health';

/** A ping every second; no pong for two seconds means no command service answers. */
export const COMMAND_PING_INTERVAL_MS = 1000;
export const COMMAND_PING_STALE_MS = 2000;

const EMPTY = new Uint8Array(0);

/** Whether a command service answers: the health the gateway's writes and `/ready` consult. */
export interface CommandServiceStatus {
  /** Known not to answer: writes fail fast instead of waiting for their timeout. */
  readonly down: boolean;
  /** Answered recently: `/ready`'s `commandService` check. */
  readonly answering: boolean;
}

/**
 * Pings the command service (`commandPingSubject`) in the background, on an unref'd timer, and
 * keeps the latest answer in a `CommandHealth`. Each ping may be answered up to
 * `COMMAND_PING_STALE_MS` late and still count.
 */
export class CommandServiceProbe implements CommandServiceStatus {
  private readonly health: CommandHealth;
  private timer: NodeJS.Timeout | undefined;
  private wasDown = false;

  constructor(
    private readonly mux: RequestMux,
    private readonly naming: Naming,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.health = new CommandHealth(this.now(), COMMAND_PING_STALE_MS);
  }

  get down(): boolean {
    return this.health.down(this.now());
  }

  get answering(): boolean {
    return this.health.answering(this.now());
  }

  /** Ping now and then every `COMMAND_PING_INTERVAL_MS` until `stop()`. */
  start(): void {
    if (this.timer) return;
    this.ping();
    this.timer = setInterval(() => this.ping(), COMMAND_PING_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private ping(): void {
    this.logChange();
    this.mux.request(this.naming.commandPingSubject, EMPTY, COMMAND_PING_STALE_MS).then(
      () => {
        this.health.pong(this.now());
        this.logChange();
      },
      (err: unknown) => {
        if (classifyNatsError(err).code === 'NO_RESPONDERS') {
          this.health.noResponders(this.now());
          this.logChange();
        }
      },
    );
  }

  private logChange(): void {
    const down = this.down;
    if (down === this.wasDown) return;
    this.wasDown = down;
    if (down) this.logger.warn('no command service answers its ping; writes answer 503 at once');
    else this.logger.info('a command service answers its ping again');
  }
}
