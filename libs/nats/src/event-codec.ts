import { CbEvent, compileValidator, type ValidationIssue } from '@cb/schemas';
import { decodeJson } from './codec';

const eventValidator = compileValidator(CbEvent);

/**
 * Why a payload is no event: `undecodable` (empty, or not JSON at all) or `invalid` (JSON, but
 * not a valid event). Callers branch on it, never on `reason`, which is for people.
 */
export type EventDecodeFailure = 'undecodable' | 'invalid';

export type DecodedEvent =
  | { ok: true; event: CbEvent }
  | { ok: false; failure: EventDecodeFailure; reason: string; issues?: ValidationIssue[] };

/** Decode and schema-check one event payload. Never throws: garbage gets a failure and a reason. */
export function decodeEvent(data: Uint8Array): DecodedEvent {
  if (data.length === 0) return { ok: false, failure: 'undecodable', reason: 'empty payload' };
  const value = decodeJson(data);
  if (value === undefined) {
    return { ok: false, failure: 'undecodable', reason: 'payload is not JSON' };
  }
  if (!eventValidator.check(value)) {
    const issues = eventValidator.errors(value, 5);
    return {
      ok: false,
      failure: 'invalid',
      reason: `payload is not a valid event: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      issues,
    };
  }
  return { ok: true, event: value };
}
