import { connect, type Socket } from 'node:net';

export interface LeanResponse {
  status: number;
  body: string;
}

/**
 * One keep-alive HTTP/1.1 connection with one request in flight, parsed by hand. The load
 * generator shares two cores with the system under test, so it must cost as little CPU as
 * possible: Node's http client costs about as much as the gateway itself.
 */
export class LeanConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: LeanResponse) => void; reject: (e: Error) => void } | null = null;

  /** The `authorization` header line every request carries ('' for none). */
  private readonly auth: string;

  private constructor(
    private readonly socket: Socket,
    private readonly host: string,
    authorization: string | undefined,
  ) {
    this.auth = authorization ? `authorization: ${authorization}\r\n` : '';
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** A connection whose every request sends `Authorization: <authorization>` (when given). */
  static open(host: string, port: number, authorization?: string): Promise<LeanConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port }, () =>
        resolve(new LeanConnection(socket, `${host}:${port}`, authorization)),
      );
      socket.once('error', reject);
    });
  }

  request(method: string, path: string, body?: string, headers = ''): Promise<LeanResponse> {
    if (this.pending) return Promise.reject(new Error('one request at a time per connection'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      const head =
        `${method} ${path} HTTP/1.1\r\nhost: ${this.host}\r\n${this.auth}${headers}` +
        (body !== undefined
          ? `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
          : '\r\n');
      this.socket.write(head);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffer.subarray(0, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    const match = /\r\ncontent-length: *(\d+)/i.exec(head);
    const length = match ? Number(match[1]) : 0;
    if (this.buffer.length < end + 4 + length) return;
    const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    this.buffer = this.buffer.subarray(end + 4 + length);
    const p = this.pending;
    this.pending = null;
    p?.resolve({ status, body });
  }

  private fail(err: Error): void {
    const p = this.pending;
    this.pending = null;
    p?.reject(err);
  }
}
