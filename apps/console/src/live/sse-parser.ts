/**
 * An incremental parser of text/event-stream (the WHATWG "event stream interpretation"): feed it
 * decoded text in chunks of any size, get the complete frames. Comments (`:` heartbeats) are
 * skipped, `data:` lines join with '\n', a frame without data is not dispatched, `id:` sticks
 * to later frames as the last event id. Lines and buffered data are bounded, so a hostile or
 * broken stream cannot grow memory without end: it throws instead and the caller reconnects.
 */
export interface SseFrame {
  /** The last event id (this frame's `id:`, or the last one seen before it). */
  id: string | undefined;
  /** `event:`, 'message' when absent. */
  event: string;
  data: string;
}

export const MAX_SSE_LINE = 1 << 20;
export const MAX_SSE_FRAME = 4 << 20;

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private dataBytes = 0;
  private event = '';
  private lastId: string | undefined;
  /** The server's `retry:` in ms, when it sent one. */
  retryMs: number | undefined;

  constructor(lastEventId?: string) {
    this.lastId = lastEventId;
  }

  /** The id to resume from (`Last-Event-ID`). */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** Parse another chunk; returns the frames it completed. */
  push(chunk: string): SseFrame[] {
    this.buffer += chunk;
    const frames: SseFrame[] = [];
    let start = 0;
    for (;;) {
      let end = -1;
      let next = -1;
      for (let i = start; i < this.buffer.length; i++) {
        const c = this.buffer.charCodeAt(i);
        if (c === 10) {
          end = i;
          next = i + 1;
          break;
        }
        if (c === 13) {
          // A lone CR ends a line, CRLF too; a CR at the very end may be half of a CRLF.
          if (i + 1 >= this.buffer.length) break;
          end = i;
          next = this.buffer.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
          break;
        }
      }
      if (end < 0) break;
      const frame = this.line(this.buffer.slice(start, end));
      if (frame) frames.push(frame);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > MAX_SSE_LINE) throw new Error('event stream line too long');
    return frames;
  }

  private line(line: string): SseFrame | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataBytes += value.length + 1;
        if (this.dataBytes > MAX_SSE_FRAME) throw new Error('event stream frame too large');
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^[0-9]{1,9}$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }

  private dispatch(): SseFrame | undefined {
    const hasData = this.data.length > 0;
    const frame: SseFrame = {
      id: this.lastId,
      event: this.event === '' ? 'message' : this.event,
      data: this.data.join('\n'),
    };
    this.data = [];
    this.dataBytes = 0;
    this.event = '';
    return hasData ? frame : undefined;
  }
}
