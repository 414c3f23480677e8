import { Writable } from 'node:stream';
import { createLogger } from '@cb/logging';
import { TEST_ADMIN_HEADERS, appWithoutNats } from '../testing/app-without-nats';

/** The gateway logging into memory at `level`; `lines` are the parsed lines so far. */
function appLoggingAt(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  const logger = createLogger({ service: 'gateway-test', level, destination });
  return { app: appWithoutNats({ logger }), lines };
}

describe('request log lines', () => {
  it('writes none for an answered request at the default level (info)', async () => {
    const { app, lines } = appLoggingAt('info');
    try {
      const res = await app.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(200);
      const unknown = await app.inject({
        method: 'GET',
        url: '/v1/nothing',
        headers: TEST_ADMIN_HEADERS,
      });
      expect(unknown.statusCode).toBe(404);
      expect(lines.filter((l) => 'requestId' in l)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('writes one line per request at debug, with its status and time', async () => {
    const { app, lines } = appLoggingAt('debug');
    try {
      const res = await app.inject({
        method: 'GET',
        url: '/v1/nothing',
        headers: TEST_ADMIN_HEADERS,
      });
      expect(res.statusCode).toBe(404);
      const requestLines = lines.filter((l) => 'requestId' in l);
      expect(requestLines).toEqual([
        expect.objectContaining({
          level: 'debug',
          msg: 'request completed',
          method: 'GET',
          status: 404,
          ms: expect.any(Number),
        }),
      ]);
    } finally {
      await app.close();
    }
  });
});
