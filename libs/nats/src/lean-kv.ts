import { Empty } from '@nats-io/transport-node';
import { kvStreamName, kvSubjectPrefix } from '@cb/subjects';
import { decodeJson, encodeJson } from './codec';
import { directGet, jsPublish } from './js-wire';
import type { RequestMux } from './request-mux';

export interface KvEntry {
  key: string;
  /** The entry's stream sequence: pass it back as `expectedRevision` for compare-and-set. */
  revision: number;
  operation: 'PUT' | 'DEL' | 'PURGE';
  value: Uint8Array;
  json<T = unknown>(): T | undefined;
}

/**
 * A KV bucket spoken over the wire protocol (`$KV.<bucket>.<key>` on stream `KV_<bucket>`),
 * through the lean request mux: pipelined puts, deletes and compare-and-set without the KV
 * client's per-call overhead. Use for hot read-model writes; the nats.js KV client for the rest.
 */
export class LeanKv {
  private readonly stream: string;
  private readonly prefix: string;

  constructor(
    private readonly mux: RequestMux,
    readonly bucket: string,
  ) {
    this.stream = kvStreamName(bucket);
    this.prefix = kvSubjectPrefix(bucket);
  }

  /** The key's latest entry, or null; `timeoutMs` bounds the wait for the answer (default 5 s). */
  async get(key: string, timeoutMs?: number): Promise<KvEntry | null> {
    const msg = await directGet(
      this.mux,
      this.stream,
      { last_by_subj: this.prefix + key },
      timeoutMs,
    );
    if (msg === null) return null;
    return new Entry(key, msg.seq, kvOperation(msg.header), msg.data);
  }

  /** Put a JSON value; with `expectedRevision` the write fails (WRONG_LAST_SEQUENCE) if the key moved on. */
  async put(key: string, value: unknown, expectedRevision?: number): Promise<number> {
    const ack = await jsPublish(this.mux, this.prefix + key, encodeJson(value), {
      ...(expectedRevision !== undefined ? { expectedLastSubjectSeq: expectedRevision } : {}),
    });
    return ack.seq;
  }

  /** Delete (a tombstone marker, as the KV client writes it). */
  async delete(key: string, expectedRevision?: number): Promise<number> {
    const ack = await jsPublish(this.mux, this.prefix + key, Empty, {
      headers: { 'KV-Operation': 'DEL' },
      ...(expectedRevision !== undefined ? { expectedLastSubjectSeq: expectedRevision } : {}),
    });
    return ack.seq;
  }
}

/** What a stored KV message records: a put unless its `KV-Operation` header says otherwise. */
export function kvOperation(
  header: { get(name: string): string } | undefined,
): 'PUT' | 'DEL' | 'PURGE' {
  const op = header?.get('KV-Operation');
  return op === 'DEL' || op === 'PURGE' ? op : 'PUT';
}

/** A class, not an object literal with a closure: no function is created per read. */
class Entry implements KvEntry {
  constructor(
    readonly key: string,
    readonly revision: number,
    readonly operation: 'PUT' | 'DEL' | 'PURGE',
    readonly value: Uint8Array,
  ) {}

  json<T = unknown>(): T | undefined {
    return decodeJson(this.value) as T | undefined;
  }
}
