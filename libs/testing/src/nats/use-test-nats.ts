import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startTestNats } from './start-test-nats';
import type { StartTestNatsOptions, TestNats } from './test-nats';

/** The suite's private nats-server and a connection to it (read them inside tests and hooks). */
export interface SuiteNats {
  readonly server: TestNats;
  readonly nc: NatsConnection;
}

/**
 * A private nats-server and one connection to it for the calling suite: started in a `beforeAll`,
 * closed and disposed in an `afterAll`. Call it at the top of a spec file, before hooks that use it.
 */
export function useTestNats(options?: StartTestNatsOptions): SuiteNats {
  let server: TestNats | undefined;
  let nc: NatsConnection | undefined;
  beforeAll(async () => {
    server = await startTestNats(options);
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useTestNats: the suite has not started yet');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get nc() {
      return started(nc);
    },
  };
}
