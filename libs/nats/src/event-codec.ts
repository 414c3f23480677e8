import { CbEvent, compileValidator, type ValidationIssue } from '@cb/schemas';
import { decodeJson } from './codec';

const eventValidator = compileValidator(CbEvent);

export type DecodedEvent =
  { ok: true; event: CbEvent } | { ok: false; reason: string; issues?: ValidationIssue[] };

/** Decode and schema-check one event payload. Never throws: garbage gets a reason. */
export function decodeEvent(data: Uint8Array): DecodedEvent {
  if (data.length === 0) return { ok: false, reason: 'empty payload' };
  const value = decodeJson(data);
  if (value === undefined) return { ok: false, reason: 'payload is not JSON' };
  if (!eventValidator.check(value)) {
    const issues = eventValidator.errors(value, 5);
    return {
      ok: false,
      reason: `payload is not a valid event: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      issues,
    };
  }
  return { ok: true, event: value };
}
