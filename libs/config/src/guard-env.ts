import { Type, type Static } from '@sinclair/typebox';

/** Variables of the guard pool, read by every service that evaluates guards. */
export const guardEnvFields = {
  GUARD_WORKERS: Type.Integer({
    default: 2,
    minimum: 1,
    maximum: 64,
    description: 'worker threads evaluating guards (1 to 64)',
  }),
  GUARD_TIMEOUT_MS: Type.Integer({
    default: 100,
    minimum: 5,
    maximum: 60_000,
    description:
      'budget of one guard evaluation; past it the fire answers 422 GUARD_TOO_EXPENSIVE (5 to 60000 ms)',
  }),
  GUARD_COMPILE_TIMEOUT_MS: Type.Integer({
    default: 2000,
    minimum: 50,
    maximum: 60_000,
    description: "budget for compiling one definition's guards (50 to 60000 ms)",
  }),
  GUARD_QUARANTINE_STRIKES: Type.Integer({
    default: 3,
    minimum: 1,
    maximum: 100,
    description:
      'overruns within GUARD_QUARANTINE_WINDOW_MS that quarantine a transition (1 to 100)',
  }),
  GUARD_QUARANTINE_WINDOW_MS: Type.Integer({
    default: 60_000,
    minimum: 1000,
    maximum: 86_400_000,
    description: 'window in which overruns are counted (1000 to 86400000 ms)',
  }),
  GUARD_QUARANTINE_MS: Type.Integer({
    default: 60_000,
    minimum: 1000,
    maximum: 86_400_000,
    description: 'how long a quarantined transition is refused at once (1000 to 86400000 ms)',
  }),
  GUARD_WORKER_MEMORY_MB: Type.Integer({
    default: 256,
    minimum: 32,
    maximum: 8192,
    description: 'heap limit of each guard worker (32 to 8192 MiB)',
  }),
};

export const GuardEnv = Type.Object(guardEnvFields);
export type GuardEnv = Static<typeof GuardEnv>;

/** Guard pool options from the guard variables. */
export function guardPoolSettingsOf(config: GuardEnv) {
  return {
    workers: config.GUARD_WORKERS,
    timeoutMs: config.GUARD_TIMEOUT_MS,
    compileTimeoutMs: config.GUARD_COMPILE_TIMEOUT_MS,
    quarantineStrikes: config.GUARD_QUARANTINE_STRIKES,
    quarantineWindowMs: config.GUARD_QUARANTINE_WINDOW_MS,
    quarantineMs: config.GUARD_QUARANTINE_MS,
    workerMemoryMb: config.GUARD_WORKER_MEMORY_MB,
  };
}
