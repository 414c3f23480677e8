import { startBinaryNats } from './binary-nats';
import { containerRuntimeAvailable, startContainerNats } from './container-nats';
import { NATS_TEST_URL, useEnvNats } from './env-nats';
import { findNatsServerBinary } from '@cb/ops';
import type { StartTestNatsOptions, TestNats } from './test-nats';

/**
 * A NATS server for integration tests, from the first source that works:
 * 1. `NATS_TEST_URL` (shared, never stopped by us; use `uniqueNaming()` to avoid collisions);
 * 2. a testcontainers container, when a container runtime answers;
 * 3. the local `nats-server` binary on a free port with a fresh store dir.
 * Always `dispose()` it (afterAll); leaked servers die with the test process anyway.
 */
export async function startTestNats(options: StartTestNatsOptions = {}): Promise<TestNats> {
  const jetstream = options.jetstream ?? true;
  const binary = findNatsServerBinary();
  if (options.configFile !== undefined || options.env !== undefined) {
    // A configuration (users, TLS) needs a server of our own.
    if (!binary) throw noNatsServerError();
    return startBinaryNats(binary, jetstream, options);
  }
  const envUrl = process.env[NATS_TEST_URL]?.trim();
  if (envUrl) return useEnvNats(envUrl, jetstream);

  if (await containerRuntimeAvailable()) {
    try {
      return await startContainerNats(jetstream);
    } catch (err) {
      // An image that cannot be pulled (offline) should not fail the suite when the binary is here.
      if (!binary) throw new Error('testcontainers could not start NATS', { cause: err });
    }
  }
  if (binary) return startBinaryNats(binary, jetstream);

  throw noNatsServerError();
}

export function noNatsServerError(): Error {
  return new Error(
    'No NATS server for tests: install nats-server (`apt-get install nats-server` or ' +
      '`brew install nats-server`), run a container runtime for testcontainers, or set ' +
      `${NATS_TEST_URL}=nats://host:port to use a running server (with JetStream).`,
  );
}
