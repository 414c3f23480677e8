import { type Static, type TObject } from '@sinclair/typebox';
import { checkCredentials, type CommonEnv } from './common-env';
import { ConfigError, parseEnv } from './parse-env';

/** Parse a service's environment (a schema that includes the common fields) and cross-check it. */
export function loadConfig<T extends TObject>(
  schema: T,
  env: Record<string, string | undefined> = process.env,
): Readonly<Static<T>> {
  const config = parseEnv(schema, env);
  const issues = checkCredentials(config as unknown as CommonEnv);
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}
