import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a nats-server that can make part of JetStream unavailable to the
 * clients connected through it, while clients connected directly see nothing wrong: what a
 * client sees while the stream behind a subject elects a leader or has lost its quorum (its
 * requests time out) on a single real server.
 */
export interface NatsFaultProxy {
  /** `nats://127.0.0.1:<port>`: give this to the clients that are to see the fault. */
  readonly url: string;
  /**
   * From now on, drop every message a client publishes to a subject starting with one of
   * `prefixes` (e.g. `kvSubjectPrefix(bucket)`): the server never sees it, so a request to it times out.
   * Everything else passes unchanged.
   */
  dropPublishes(prefixes: readonly string[]): void;
  /** Forward everything again. */
  heal(): void;
  /** Publishes dropped so far. */
  readonly dropped: number;
  close(): Promise<void>;
}

const CRLF = Buffer.from('\r\n');

/** Start a proxy on a free loopback port forwarding to `upstreamPort` on 127.0.0.1. */
export async function startNatsFaultProxy(upstreamPort: number): Promise<NatsFaultProxy> {
  const sockets = new Set<Socket>();
  let prefixes: readonly string[] = [];
  let dropped = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    upstream.pipe(client);
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const { frames, rest } = splitFrames(pending);
      pending = rest;
      for (const frame of frames) {
        if (frame.subject !== null && prefixes.some((p) => frame.subject!.startsWith(p))) {
          dropped++;
        } else {
          upstream.write(frame.bytes);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `nats://127.0.0.1:${port}`,
    dropPublishes(p) {
      prefixes = [...p];
    },
    heal() {
      prefixes = [];
    },
    get dropped() {
      return dropped;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Frame {
  bytes: Buffer;
  /** The subject of a PUB or HPUB, null for every other operation. */
  subject: string | null;
}

/**
 * Complete client operations at the start of `data` (the NATS client protocol: one line per
 * operation, PUB and HPUB followed by their payload) and what is left of an incomplete one.
 */
function splitFrames(data: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf(CRLF, at);
    if (eol < 0) break;
    const line = data.toString('latin1', at, eol);
    const args = line.split(/[ \t]+/);
    const op = args[0]!.toUpperCase();
    let end = eol + 2;
    let subject: string | null = null;
    if (op === 'PUB' || op === 'HPUB') {
      subject = args[1] ?? '';
      end += Number(args.at(-1)) + 2;
      if (end > data.length) break;
    }
    frames.push({ bytes: data.subarray(at, end), subject });
    at = end;
  }
  return { frames, rest: data.subarray(at) };
}
