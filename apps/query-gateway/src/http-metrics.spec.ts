import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from './app-type';
import { LiveEvents } from './read/live-events';
import type { LiveHubs } from './read/live-hubs';
import type { Reads } from './read/reads';
import { TEST_ADMIN_HEADERS, appWithoutNats as withoutNats } from './testing/app-without-nats';

/**
 * The gateway without NATS. Only the live-events test reaches a handler that uses a dep: it gets
 * a workflow lookup that finds anything and a hub that never delivers.
 */
function appWithoutNats(onLive?: (live: LiveEvents) => void): App {
  const reads = { workflow: async () => ({}) } as unknown as Reads;
  const hubs = {
    size: 0,
    enter: () => ({ ready: Promise.resolve(), attach: () => 0, leave: () => undefined }),
  } as unknown as LiveHubs;
  const live = new LiveEvents(hubs, { maxConnections: 10, clientBufferBytes: 1024 * 1024 });
  onLive?.(live);
  return withoutNats({ reads, live });
}

interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of one metric in a Prometheus text exposition. */
function samples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

function valueOf(text: string, name: string, labels: Record<string, string>): number | undefined {
  return samples(text, name).find((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

/** A live event stream of workflow wf1, as a client opens it. */
async function openStream(port: number): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  const req = request({
    port,
    host: '127.0.0.1',
    path: '/v1/workflows/wf1/events',
    headers: TEST_ADMIN_HEADERS,
  });
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve).on('error', reject).end();
  });
  return { req, res };
}

describe('HTTP metrics', () => {
  let app: App;

  beforeEach(() => {
    app = appWithoutNats();
  });

  afterEach(async () => {
    await app.close();
  });

  async function scrape(): Promise<string> {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.body;
  }

  it('counts requests by method, route pattern and status, and problems by code', async () => {
    const notFound = await app.inject({ method: 'GET', url: '/no/such/route?secret=1' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json()).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    // Validation errors: the handlers (which would need NATS) are never reached.
    const badQuery = await app.inject({
      method: 'GET',
      url: '/v1/workflows?limit=0',
      headers: TEST_ADMIN_HEADERS,
    });
    expect(badQuery.statusCode).toBe(400);
    expect(badQuery.json()).toMatchObject({ code: 'VALIDATION_ERROR' });
    const badId = await app.inject({
      method: 'GET',
      url: '/v1/workflows/bad.id/tokens/t1',
      headers: TEST_ADMIN_HEADERS,
    });
    expect(badId.statusCode).toBe(400);
    for (let i = 0; i < 2; i++) {
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    }

    const text = await scrape();
    const requests = 'cb_http_requests_total';
    expect(valueOf(text, requests, { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(valueOf(text, requests, { method: 'GET', route: '/v1/workflows', status: '400' })).toBe(
      1,
    );
    expect(
      valueOf(text, requests, {
        method: 'GET',
        route: '/v1/workflows/:workflowId/tokens/:tokenId',
        status: '400',
      }),
    ).toBe(1);
    expect(valueOf(text, requests, { method: 'GET', route: '/health', status: '200' })).toBe(2);
    // Route patterns only, never raw URLs.
    const routes = samples(text, requests).map((s) => s.labels.route);
    expect(routes.filter((r) => r?.includes('bad.id') || r?.includes('/no/such'))).toEqual([]);

    expect(valueOf(text, 'cb_http_errors_total', { code: 'ROUTE_NOT_FOUND' })).toBe(1);
    expect(valueOf(text, 'cb_http_errors_total', { code: 'VALIDATION_ERROR' })).toBe(2);
    expect(samples(text, 'cb_http_errors_total')).toHaveLength(2);

    const durations = 'cb_http_request_duration_seconds_count';
    expect(valueOf(text, durations, { method: 'GET', route: '/health' })).toBe(2);
    expect(valueOf(text, durations, { method: 'GET', route: 'unmatched' })).toBe(1);
    expect(
      valueOf(text, 'cb_http_request_duration_seconds_bucket', {
        method: 'GET',
        route: '/health',
        le: '+Inf',
      }),
    ).toBe(2);
    // The default process metrics of its own registry, prefixed as on every service.
    expect(samples(text, 'cb_process_cpu_user_seconds_total')).toHaveLength(1);
    expect(samples(text, 'cb_nodejs_heap_size_used_bytes')).toHaveLength(1);
    expect(text).not.toMatch(/^(process|nodejs)_/m);
  });

  it('counts the scrape itself on the next scrape, and errors only from problem responses', async () => {
    await scrape();
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    const text = await scrape();
    expect(valueOf(text, 'cb_http_requests_total', { route: '/metrics', status: '200' })).toBe(1);
    expect(valueOf(text, 'cb_http_requests_total', { route: '/ready', status: '200' })).toBe(1);
    expect(samples(text, 'cb_http_errors_total')).toEqual([]);
  });

  it('gauges open live event streams', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const gauge = async (): Promise<number | undefined> =>
      valueOf(await scrape(), 'cb_http_live_event_streams', {});
    expect(await gauge()).toBe(0);

    const { req, res } = await openStream(port);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(await gauge()).toBe(1);

    const closed = new Promise((resolve) => res.on('close', resolve));
    req.destroy();
    await closed;
    for (let i = 0; i < 50 && (await gauge()) !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await gauge()).toBe(0);
  });

  it('counts a live event stream once when it ends: closed by the client or ended by the gateway', async () => {
    let live: LiveEvents | undefined;
    await app.close();
    app = appWithoutNats((l) => (live = l));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const route = '/v1/workflows/:workflowId/events';
    const streams = async (): Promise<number | undefined> =>
      valueOf(await scrape(), 'cb_http_requests_total', { route, status: '200' });
    const open = async (): Promise<{ req: ClientRequest; res: IncomingMessage }> => {
      const stream = await openStream(port);
      expect(stream.res.statusCode).toBe(200);
      return stream;
    };
    const until = async (want: number): Promise<void> => {
      for (let i = 0; i < 100 && (await streams()) !== want; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await streams()).toBe(want);
    };

    // While it streams it is not counted yet.
    const first = await open();
    expect(await streams()).toBeUndefined();
    first.req.destroy();
    await until(1);

    // Ended by the gateway (a cutoff, then the response finishes): counted once, not twice.
    const second = await open();
    second.res.resume();
    const ended = new Promise((resolve) => second.res.on('end', resolve));
    live!.endAll();
    await ended;
    await until(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await streams()).toBe(2);
    const timing = valueOf(await scrape(), 'cb_http_request_duration_seconds_count', {
      method: 'GET',
      route,
    });
    expect(timing).toBe(2);
  });
});
