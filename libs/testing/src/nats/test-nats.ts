/** A NATS server for integration tests; see `startTestNats`. */
export interface TestNats {
  /** `nats://<host>:<port>`, ready for `connect({ servers: url })`. */
  readonly url: string;
  /** Where the server came from: NATS_TEST_URL, a testcontainers container or the local binary. */
  readonly source: 'env' | 'container' | 'binary';
  readonly port: number;
  /** JetStream store directory (binary source with JetStream only). */
  readonly storeDir: string | null;
  /** pid of the nats-server process while it runs (binary source only), else null. */
  readonly pid: number | null;
  /**
   * Stop the server: SIGTERM and wait (SIGKILL after 10 s), or SIGKILL at once when asked, to
   * simulate a crash. Keeps the store dir. Throws for the env source.
   */
  stop(options?: StopTestNatsOptions): Promise<void>;
  /**
   * Start again on the same port with the same store dir, so JetStream data survives. Stops a
   * running server gracefully first. Binary source only; throws otherwise.
   */
  restart(): Promise<void>;
  /** Stop and remove everything; idempotent. A no-op for the env source. */
  dispose(): Promise<void>;
  /** The tail of the server's log since its last (re)start (binary source only). */
  output?(): string;
}

export interface StopTestNatsOptions {
  readonly signal?: 'SIGTERM' | 'SIGKILL';
}

export interface StartTestNatsOptions {
  /** Enable JetStream (default true). */
  readonly jetstream?: boolean;
  /**
   * A nats-server configuration file (e.g. from `natsServerConfig`, with users and TLS): the
   * binary source runs `nats-server -c <file>` plus its own port, name and store flags, which
   * take precedence. Other sources cannot apply one and refuse.
   */
  readonly configFile?: string;
  /** Variables the server's configuration refers to (`$VAR`), added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
}
