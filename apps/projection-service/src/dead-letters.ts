import type { JsMsg } from '@nats-io/jetstream';
import { directGet, jsPublish, type RequestMux } from '@cb/nats';
import type { Logger } from '@cb/logging';
import type { Naming } from '@cb/subjects';
import type { ProjectionMetrics } from './metrics';

/** Why an event is dead-lettered: not an event, not a valid one, or it kept failing. */
export const DEAD_LETTER_KINDS = ['undecodable', 'invalid', 'failing'] as const;
export type DeadLetterKind = (typeof DEAD_LETTER_KINDS)[number];

/**
 * Undecodable or schema-invalid events, and events that keep failing, are copied with their
 * seq, subject and reason to the dead-letter stream and terminated, so the projection goes on.
 * The copy is acknowledged by the server before the original is terminated: nothing is lost.
 */
export class DeadLetters {
  constructor(
    private readonly mux: RequestMux,
    private readonly naming: Naming,
    private readonly consumer: string,
    private readonly metrics: ProjectionMetrics,
    private readonly logger: Logger,
  ) {}

  async send(msg: JsMsg, kind: DeadLetterKind, reason: string): Promise<void> {
    await jsPublish(this.mux, this.naming.deadLetterSubject(msg.subject), msg.data, {
      // The same original never lands twice, even if we crash between publish and terminate.
      msgId: `dlq-${this.naming.stream}-${msg.seq}`,
      headers: {
        'Cb-Dlq-Reason': reason.slice(0, 1000),
        'Cb-Dlq-Kind': kind,
        'Cb-Dlq-Stream': this.naming.stream,
        'Cb-Dlq-Seq': String(msg.seq),
        'Cb-Dlq-Subject': msg.subject,
        'Cb-Dlq-Consumer': this.consumer,
        'Cb-Dlq-Deliveries': String(msg.info.deliveryCount),
      },
    });
    // No reason on the terminate: nats-server 2.9 only understands a bare `+TERM` and would
    // redeliver the message forever (the reason is in the dead-letter record).
    msg.term();
    this.metrics.deadLetters.inc({ kind });
    this.logger.warn({ seq: msg.seq, subject: msg.subject, kind, reason }, 'event dead-lettered');
  }

  /**
   * Whether this consumer dead-lettered the event at `seq` of the event stream, on `subject`.
   * Reads the dead letters of that one subject (rare: only asked about an event that looks
   * unapplied).
   */
  async contains(subject: string, seq: number): Promise<boolean> {
    const dlq = this.naming.deadLetterSubject(subject);
    for (let from = 1; ;) {
      const letter = await directGet(this.mux, this.naming.deadLetterStream, {
        seq: from,
        next_by_subj: dlq,
      });
      if (letter === null) return false;
      const h = letter.header;
      // Only this consumer's: another generation (a rebuild) decides on its own.
      if (
        h?.get('Cb-Dlq-Seq') === String(seq) &&
        h.get('Cb-Dlq-Stream') === this.naming.stream &&
        h.get('Cb-Dlq-Consumer') === this.consumer
      ) {
        return true;
      }
      from = letter.seq + 1;
    }
  }
}
