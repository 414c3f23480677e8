import { readServerInfo } from './server-info';
import type { TestNats } from './test-nats';

export const NATS_TEST_URL = 'NATS_TEST_URL';

/** Use the server NATS_TEST_URL names; checks that it answers (with JetStream when asked). */
export async function useEnvNats(url: string, jetstream: boolean): Promise<TestNats> {
  const first = url.split(',')[0]?.trim() ?? '';
  let parsed: URL;
  try {
    parsed = new URL(first.includes('://') ? first : `nats://${first}`);
  } catch (err) {
    throw new Error(`${NATS_TEST_URL}=${url} is not a URL like nats://127.0.0.1:4222`, {
      cause: err,
    });
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port ? Number(parsed.port) : 4222;
  const info = await readServerInfo(host, port, 2000).catch((err: unknown) => {
    throw new Error(`${NATS_TEST_URL}=${url} does not answer as a NATS server`, { cause: err });
  });
  if (jetstream && info.jetstream !== true) {
    throw new Error(`${NATS_TEST_URL}=${url} has JetStream disabled: start nats-server with -js`);
  }
  const refuse = (what: string): Promise<never> =>
    Promise.reject(
      new Error(`${what}() is not available for a server from ${NATS_TEST_URL}: it is not ours`),
    );
  return {
    url,
    source: 'env',
    port,
    storeDir: null,
    pid: null,
    stop: () => refuse('stop'),
    restart: () => refuse('restart'),
    dispose: () => Promise.resolve(),
  };
}
