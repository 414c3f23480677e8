import { headers as natsHeaders } from '@nats-io/transport-node';
import { jsApiDirectGet, jsApiStreamMsgGet } from '@cb/subjects';
import { decodeJson, encodeJson } from './codec';
import { JS_ERR, NatsPlatformError } from './errors';
import { messageHeaders, type HeaderReader } from './header-block';
import type { RequestMux } from './request-mux';

/** JetStream API calls on hot paths, spoken directly over the lean request mux. */

const API_TIMEOUT_MS = 5000;

/** One stored message, as a direct get returns it. */
export interface StoredMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  /** The message's own headers plus the server's Nats-* metadata. */
  header: HeaderReader | undefined;
  /** Parse the payload as JSON (undefined if it is not JSON). */
  json(): unknown;
}

export interface PublishOptions {
  /** Optimistic concurrency on the subject (0 = the subject must be empty). */
  expectedLastSubjectSeq?: number;
  msgId?: string;
  headers?: Record<string, string>;
}

interface PubAck {
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

/** Publish to a stream subject and wait for the acknowledgement. */
export async function jsPublish(
  mux: RequestMux,
  subject: string,
  data: Uint8Array,
  options: PublishOptions = {},
): Promise<{ seq: number; duplicate: boolean }> {
  const h = natsHeaders();
  if (options.msgId !== undefined) h.set('Nats-Msg-Id', options.msgId);
  if (options.expectedLastSubjectSeq !== undefined) {
    h.set('Nats-Expected-Last-Subject-Sequence', String(options.expectedLastSubjectSeq));
  }
  for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
  const reply = await mux.request(subject, data, API_TIMEOUT_MS, h);
  const ack = decodeJson(reply.data) as PubAck | undefined;
  if (ack?.error) {
    const code =
      ack.error.err_code === JS_ERR.wrongLastSequence ? 'WRONG_LAST_SEQUENCE' : 'JETSTREAM';
    throw new NatsPlatformError(code, ack.error.description ?? 'publish rejected', {
      cause: { code: ack.error.code, err_code: ack.error.err_code },
    });
  }
  if (typeof ack?.seq !== 'number')
    throw new NatsPlatformError('JETSTREAM', 'unreadable publish acknowledgement');
  return { seq: ack.seq, duplicate: ack.duplicate === true };
}

export type DirectGetQuery = { last_by_subj: string } | { seq: number; next_by_subj?: string };

const NO_PAYLOAD = new Uint8Array(0);

/**
 * Direct get (any replica answers); null when there is no such message. The last message of a
 * literal subject is asked for with the subject in the API subject and no payload (nats-server
 * 2.9+), which spares both sides a JSON request body; wildcards and seq queries use the JSON form.
 */
export async function directGet(
  mux: RequestMux,
  stream: string,
  query: DirectGetQuery,
  timeoutMs = API_TIMEOUT_MS,
): Promise<StoredMessage | null> {
  const reply =
    'last_by_subj' in query && isLiteralSubject(query.last_by_subj)
      ? await mux.request(jsApiDirectGet(stream, query.last_by_subj), NO_PAYLOAD, timeoutMs)
      : await mux.request(jsApiDirectGet(stream), encodeJson(query), timeoutMs);
  const h = messageHeaders(reply);
  const status = h?.code ?? 0;
  if (status === 404) return null;
  if (status >= 400 || !h) {
    throw new NatsPlatformError(
      'JETSTREAM',
      `direct get failed: ${status} ${h?.description ?? ''}`.trim(),
      { cause: { code: status } },
    );
  }
  return new Stored(Number(h.get('Nats-Sequence')), h.get('Nats-Subject'), reply.data, h);
}

/**
 * The same query answered by the stream's leader (`STREAM.MSG.GET`), never by a follower: on a
 * replicated stream a direct get may be served by a replica that has not stored the latest
 * write yet, so a read that must see every acknowledged write (a strong read) asks the leader.
 * The stored message's headers are not returned (the server's JSON carries them encoded).
 */
export async function leaderGet(
  mux: RequestMux,
  stream: string,
  query: DirectGetQuery,
  timeoutMs = API_TIMEOUT_MS,
): Promise<StoredMessage | null> {
  const reply = await mux.request(jsApiStreamMsgGet(stream), encodeJson(query), timeoutMs);
  const body = decodeJson(reply.data) as
    | {
        message?: { subject?: unknown; seq?: unknown; data?: unknown; time?: unknown };
        error?: { code?: number; description?: string };
      }
    | undefined;
  if (body?.error?.code === 404) return null;
  const m = body?.message;
  if (!m || typeof m.seq !== 'number' || typeof m.subject !== 'string') {
    throw new NatsPlatformError(
      'JETSTREAM',
      `message get failed: ${body?.error?.code ?? ''} ${body?.error?.description ?? ''}`.trim(),
      { cause: { code: body?.error?.code ?? 0 } },
    );
  }
  const data = typeof m.data === 'string' ? Buffer.from(m.data, 'base64') : new Uint8Array(0);
  const time = typeof m.time === 'string' ? m.time : undefined;
  const header: HeaderReader | undefined =
    time === undefined ? undefined : { get: (name) => (name === 'Nats-Time-Stamp' ? time : '') };
  return new Stored(m.seq, m.subject, new Uint8Array(data), header);
}

/** A class, not an object literal with a closure: no function is created per get. */
class Stored implements StoredMessage {
  constructor(
    readonly seq: number,
    readonly subject: string,
    readonly data: Uint8Array,
    readonly header: HeaderReader | undefined,
  ) {}

  json(): unknown {
    return decodeJson(this.data);
  }
}

const NOT_LITERAL = /(?:^|\.)[*>](?:\.|$)|^\.|\.\.|\.$|\s/;

/** A non-empty subject with no wildcard tokens (`*`, `>`), no empty tokens and no whitespace. */
export function isLiteralSubject(subject: string): boolean {
  return subject.length > 0 && !NOT_LITERAL.test(subject);
}
