import {
  InvalidArgumentError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { connectionInbox } from './permissions';
import { BatchedPublisher } from './batched-publisher';
import { NatsPlatformError } from './errors';
import { messageHeaders } from './header-block';

interface Pending {
  resolve: (msg: Msg) => void;
  reject: (err: Error) => void;
  deadline: number;
  subject: string;
}

/** How often expired requests are swept: timeouts are accurate to this. */
const SWEEP_MS = 50;

/**
 * Request/reply over one wildcard inbox subscription, with timeouts swept by one timer.
 * The hot paths (command requests, JetStream publishes, direct gets) run through this instead of
 * `nc.request`, which allocates a timer, several promises and an Error per request — a large
 * share of a service's CPU at thousands of requests per second.
 */
export class RequestMux {
  private readonly inbox: string;
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private next = 0;
  private readonly publisher: BatchedPublisher;

  constructor(nc: NatsConnection) {
    this.publisher = new BatchedPublisher(nc);
    this.inbox = `${connectionInbox(nc)}.`;
    this.sub = nc.subscribe(`${this.inbox}*`, { callback: (err, msg) => this.onReply(err, msg) });
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  request(subject: string, data: Uint8Array, timeoutMs: number, headers?: MsgHdrs): Promise<Msg> {
    const token = (this.next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      this.pending.set(token, {
        resolve,
        reject,
        deadline: performance.now() + timeoutMs,
        subject,
      });
      this.publisher.publish(
        subject,
        data,
        headers ? { reply: this.inbox + token, headers } : { reply: this.inbox + token },
        (err) => {
          this.pending.delete(token);
          // The client refuses a payload over the server's max_payload before sending it (an
          // InvalidArgumentError): that request can never succeed, unlike one on a closed or
          // draining connection.
          const code = err instanceof InvalidArgumentError ? 'MAX_PAYLOAD' : 'CONNECTION';
          reject(new NatsPlatformError(code, `cannot publish to ${subject}`, { cause: err }));
        },
      );
    });
  }

  /** Fail everything in flight and stop. */
  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    for (const [token, p] of this.pending) {
      this.pending.delete(token);
      p.reject(new NatsPlatformError('CONNECTION', `request to ${p.subject} abandoned: closing`));
    }
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private onReply(err: Error | null, msg: Msg): void {
    if (err) return;
    const token = msg.subject.slice(this.inbox.length);
    const p = this.pending.get(token);
    if (!p) return; // late reply after a timeout
    this.pending.delete(token);
    // An empty message with status 503 is the server saying nobody subscribes to the subject.
    if (msg.data.length === 0 && messageHeaders(msg)?.code === 503) {
      p.reject(new NatsPlatformError('NO_RESPONDERS', `no responders on ${p.subject}`));
    } else {
      p.resolve(msg);
    }
  }

  private sweep(): void {
    if (this.pending.size === 0) return;
    const now = performance.now();
    for (const [token, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(token);
        p.reject(new NatsPlatformError('TIMEOUT', `no reply from ${p.subject} in time`));
      }
    }
  }
}
