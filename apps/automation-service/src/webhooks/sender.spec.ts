import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_RESPONSE_BYTES, sendWebhook } from './sender';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('sendWebhook', () => {
  let server: Server;
  let base: string;
  let handler: Handler = (_req, res) => res.end();
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  const delivery = {
    body: '{"seq":1}',
    headers: { 'content-type': 'application/json', 'webhook-id': 'evt_1' },
  };
  const open = { timeoutMs: 1000, allowPrivate: true };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        handler(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    received.length = 0;
  });

  it('POSTs the body with its headers; 2xx is delivered', async () => {
    handler = (_req, res) => res.writeHead(204).end();
    const result = await sendWebhook(`${base}/hook`, delivery, open);
    expect(result).toMatchObject({ outcome: 'delivered', status: 204 });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(received).toHaveLength(1);
    expect(received[0]?.body).toBe('{"seq":1}');
    expect(received[0]?.headers['webhook-id']).toBe('evt_1');
    expect(received[0]?.headers['content-length']).toBe('9');
  });

  it('a non-2xx status is failed, with the status', async () => {
    handler = (_req, res) => res.writeHead(500).end('boom');
    expect(await sendWebhook(`${base}/hook`, delivery, open)).toMatchObject({
      outcome: 'failed',
      status: 500,
      error: 'HTTP 500',
    });
  });

  it('does not follow a redirect: a 3xx is failed and the location is never asked', async () => {
    handler = (req, res) =>
      req.url === '/hook' ? res.writeHead(302, { location: `${base}/elsewhere` }).end() : res.end();
    const result = await sendWebhook(`${base}/hook`, delivery, open);
    expect(result).toMatchObject({ outcome: 'failed', status: 302 });
    expect(received.map((r) => r.body)).toHaveLength(1);
  });

  it('gives up at the total timeout, also on a receiver that trickles its answer', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      const tick = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(tick));
    };
    const started = Date.now();
    const result = await sendWebhook(`${base}/hook`, delivery, { ...open, timeoutMs: 300 });
    expect(result).toMatchObject({ outcome: 'failed', error: 'timed out after 300 ms' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reads a huge answer only up to its bound', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    const result = await sendWebhook(`${base}/hook`, delivery, open);
    expect(result).toMatchObject({ outcome: 'delivered', status: 200 });
    expect(MAX_RESPONSE_BYTES).toBe(65_536);
  });

  it('a network error is failed', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await sendWebhook(`http://127.0.0.1:${port}/`, delivery, open);
    expect(result).toMatchObject({ outcome: 'failed' });
    if (result.outcome === 'failed') expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it('refuses private targets by default, by literal address and by name, without connecting', async () => {
    const strict = { timeoutMs: 1000, allowPrivate: false };
    const port = (server.address() as AddressInfo).port;
    expect(await sendWebhook(`${base}/hook`, delivery, strict)).toMatchObject({
      outcome: 'refused',
    });
    expect(await sendWebhook(`http://localhost:${port}/hook`, delivery, strict)).toMatchObject({
      outcome: 'refused',
    });
    expect(received).toHaveLength(0);
  });
});
