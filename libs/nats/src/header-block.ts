import type { Msg } from '@nats-io/transport-node';

/** Read access to a message's headers (`MsgHdrs` satisfies it too). */
export interface HeaderReader {
  /** The first value of the header with exactly this name, or '' when there is none. */
  get(name: string): string;
}

/** A message's status line and headers. */
export interface MessageHeaders extends HeaderReader {
  /** Status code of the status line (`NATS/1.0 404 …`), 0 when it has none. */
  readonly code: number;
  /** Description of the status line, '' when it has none. */
  readonly description: string;
}

const STATUS_LINE = 'NATS/1.0';

/**
 * A NATS header block (`NATS/1.0[ code description]\r\nName: value\r\n…\r\n\r\n`), read by
 * scanning its text for the names asked for. The hot paths read two or three headers of a
 * message: nats.js's `MsgHdrsImpl` builds a map of every header first, which costs several
 * times more.
 */
export class HeaderBlock implements MessageHeaders {
  readonly code: number;
  readonly description: string;

  constructor(private readonly text: string) {
    const eol = text.indexOf('\r\n');
    const status = (eol < 0 ? text : text.slice(0, eol)).slice(STATUS_LINE.length).trim();
    const space = status.indexOf(' ');
    const code = Number(space < 0 ? status : status.slice(0, space));
    this.code = Number.isInteger(code) && code > 0 ? code : 0;
    this.description = space < 0 ? '' : status.slice(space + 1).trim();
  }

  static decode(bytes: Uint8Array): HeaderBlock {
    return new HeaderBlock(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(),
    );
  }

  get(name: string): string {
    const key = `\r\n${name}:`;
    const at = this.text.indexOf(key);
    if (at < 0) return '';
    const start = at + key.length;
    const end = this.text.indexOf('\r\n', start);
    return (end < 0 ? this.text.slice(start) : this.text.slice(start, end)).trim();
  }
}

/** The fields of nats.js's message implementation that hold the raw header bytes. */
interface RawMsgFields {
  _rdata?: unknown;
  _msg?: { hdr?: unknown };
}

/**
 * The raw header bytes nats.js keeps on a received message (null: it has none), or undefined
 * when they are not where this expects them (checked, not assumed).
 */
function rawHeaderBytes(msg: Msg): Uint8Array | null | undefined {
  const raw = msg as unknown as RawMsgFields;
  const hdr = raw._msg?.hdr;
  const data = raw._rdata;
  if (typeof hdr !== 'number' || !(data instanceof Uint8Array) || hdr > data.length)
    return undefined;
  return hdr > 0 ? data.subarray(0, hdr) : null;
}

/**
 * The headers of a received message, or undefined when it has none. Reads the raw header bytes
 * when they are there; otherwise falls back to nats.js's own parsed headers, so a change inside
 * nats.js costs speed, never correctness.
 */
export function messageHeaders(msg: Msg): MessageHeaders | undefined {
  const bytes = rawHeaderBytes(msg);
  if (bytes === undefined) return msg.headers;
  return bytes === null ? undefined : HeaderBlock.decode(bytes);
}

/** Whether `messageHeaders` reads the raw bytes with the installed nats.js (tests assert it). */
export function readsRawHeaders(msg: Msg): boolean {
  return rawHeaderBytes(msg) !== undefined;
}
