import { Kind, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** Start-up configuration is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_ERROR';
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * Parse environment variables with one TypeBox schema whose property names are the variable
 * names. Empty or missing values take the schema default; numbers and booleans are converted.
 * Every bad value is reported at once; the result is frozen.
 */
export function parseEnv<T extends TObject>(
  schema: T,
  env: Env = process.env,
): Readonly<Static<T>> {
  const out: Record<string, unknown> = {};
  const issues: string[] = [];
  for (const [name, prop] of Object.entries(schema.properties) as [string, TSchema][]) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') {
      if (prop.default !== undefined) out[name] = prop.default;
      else if (!isOptional(schema, name)) issues.push(`${name} is required: ${expectation(prop)}`);
      continue;
    }
    const value = convert(prop, raw.trim());
    const check = TypeCompiler.Compile(prop);
    if (value === undefined || !check.Check(value)) {
      issues.push(
        `${name}=${JSON.stringify(redact(name, raw))} is invalid: expected ${expectation(prop)}`,
      );
      continue;
    }
    out[name] = value;
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze(out) as Readonly<Static<T>>;
}

function isOptional(schema: TObject, name: string): boolean {
  return !(schema.required ?? []).includes(name);
}

function convert(prop: TSchema, raw: string): unknown {
  switch (prop[Kind]) {
    case 'Integer':
    case 'Number':
      return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : undefined;
    case 'Boolean':
      if (/^(true|1|yes)$/i.test(raw)) return true;
      if (/^(false|0|no)$/i.test(raw)) return false;
      return undefined;
    default:
      return raw;
  }
}

function expectation(prop: TSchema): string {
  if (typeof prop.description === 'string') return prop.description;
  const kind = String(prop[Kind]).toLowerCase();
  const bounds: string[] = [];
  if (prop.minimum !== undefined) bounds.push(`>= ${prop.minimum}`);
  if (prop.maximum !== undefined) bounds.push(`<= ${prop.maximum}`);
  return bounds.length > 0 ? `${kind} ${bounds.join(' and ')}` : kind;
}

/** Secrets never appear in a message: passwords, tokens, secrets, keys (CB_ADMIN_KEY), peppers. */
function redact(name: string, raw: string): string {
  return /PASSWORD|TOKEN|SECRET|_KEY$|PEPPER/i.test(name) ? '***' : raw;
}
