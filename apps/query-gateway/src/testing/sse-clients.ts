import { get, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';

/** One message of an SSE stream (comments are counted apart). */
export interface SseMessage {
  id: number | undefined;
  event: string | undefined;
  /** Kept only for `cutoff` events, or for every event with `keepData`. */
  data: string | undefined;
}

export interface SseReaderOptions {
  headers?: Record<string, string>;
  /** Read nothing past the headers until `resume()`: a client that stops reading. */
  paused?: boolean;
  /** Keep each event's `data` (large events cost the test process memory). */
  keepData?: boolean;
}

/** A live event stream read over its own connection (node:http, no agent). */
export class SseReader {
  readonly messages: SseMessage[] = [];
  comments = 0;
  /** Resolves when the server ends the stream or the connection closes. */
  readonly ended: Promise<void>;
  private buffer = '';
  /** Where the search for the next frame end resumes (large frames arrive in many chunks). */
  private scanned = 0;

  private constructor(
    private readonly res: IncomingMessage,
    private readonly keepData: boolean,
  ) {
    this.ended = new Promise((resolve) => {
      res.once('end', resolve);
      res.once('close', resolve);
      res.once('error', () => resolve());
    });
  }

  static open(url: string, options: SseReaderOptions = {}): Promise<SseReader> {
    return new Promise((resolve, reject) => {
      const req = get(url, { agent: false, headers: options.headers ?? {} }, (res) => {
        const reader = new SseReader(res, options.keepData === true);
        res.setEncoding('utf8');
        if (!options.paused) reader.resume();
        resolve(reader);
      });
      req.once('error', reject);
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  get contentType(): string | undefined {
    return this.res.headers['content-type'];
  }

  /** Ids of the token events received (cut-off events excluded). */
  get ids(): number[] {
    return this.messages.filter((m) => m.event !== 'cutoff').map((m) => m.id!);
  }

  get cutoff(): { reason: string; lastEventId: number } | undefined {
    const last = this.messages.at(-1);
    return last?.event === 'cutoff' ? JSON.parse(last.data!) : undefined;
  }

  resume(): void {
    this.res.on('data', (chunk: string) => this.parse(chunk));
  }

  close(): void {
    this.res.destroy();
  }

  private parse(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n', this.scanned)) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.scanned = 0;
      const message: SseMessage = { id: undefined, event: undefined, data: undefined };
      let isComment = true;
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) continue;
        isComment = false;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).trimStart();
        if (field === 'id') message.id = Number(value);
        else if (field === 'event') message.event = value;
        else if (field === 'data') message.data = value;
      }
      if (isComment) this.comments++;
      else if (message.data !== undefined) {
        if (!this.keepData && message.event !== 'cutoff') message.data = undefined;
        this.messages.push(message);
      }
    }
    this.scanned = Math.max(0, this.buffer.length - 1);
  }
}

/** The head of an SSE GET, with `Authorization: <authorization>` unless it is empty. */
function sseRequestHead(path: string, authorization: string): string {
  const auth = authorization ? `Authorization: ${authorization}\r\n` : '';
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${auth}\r\n`;
}

/** Send a GET and never read a byte of the answer (not even its headers). */
export function silentRequest(port: number, path: string, authorization: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(sseRequestHead(path, authorization));
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Send a GET and drop the connection `afterMs` after connecting; resolves once it is closed. */
export function abortedRequest(
  port: number,
  path: string,
  afterMs: number,
  authorization: string,
): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(sseRequestHead(path, authorization));
      setTimeout(() => socket.destroy(), afterMs);
    });
    socket.on('error', () => undefined);
    socket.once('close', () => resolve());
  });
}
