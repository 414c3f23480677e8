import type { JsMsg } from '@nats-io/jetstream';
import { decodeEvent, type EventDecodeFailure } from '@cb/nats';
import type { TokenEvent } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import type { DecodedDefinitionEvent, DecodedTokenEvent } from './batch';
import type { Decoded } from './partition-runner';

/** A payload that is no event: undecodable (empty, not JSON) or invalid (not a valid event). */
function notAnEvent(d: { failure: EventDecodeFailure; reason: string }): Decoded<never> {
  return { ok: false, kind: d.failure, reason: d.reason };
}

/**
 * The token event a stored message of one partition holds, or why it is a dead letter. Used on
 * delivery and when looking for an earlier event that is still unapplied (dead letters never are).
 */
export function tokenEventOf(
  naming: Naming,
  partition: number,
  subject: string,
  data: Uint8Array,
): Decoded<{ tenant: string; event: TokenEvent }> {
  const d = decodeEvent(data);
  if (!d.ok) return notAnEvent(d);
  const event = d.event;
  if (event.type === 'workflow.defined.v1') {
    return {
      ok: false,
      kind: 'invalid',
      reason: 'a workflow definition event on a token subject',
    };
  }
  const address = naming.parseTokenSubject(subject);
  if (
    address === null ||
    address.partition !== partition ||
    address.workflowId !== event.workflowId ||
    address.tokenId !== event.tokenId ||
    event.state.id !== event.tokenId ||
    event.state.workflowId !== event.workflowId ||
    (event.principal !== undefined && event.principal.tenant !== address.tenant)
  ) {
    return {
      ok: false,
      kind: 'invalid',
      reason: `subject ${subject} does not match the event's tenant, workflow and token`,
    };
  }
  return { ok: true, value: { tenant: address.tenant, event } };
}

/** Token events of one partition; anything else on its subjects is a dead letter. */
export function tokenDecoder(
  naming: Naming,
  partition: number,
): (msg: JsMsg) => Decoded<DecodedTokenEvent> {
  return (msg) => {
    const d = tokenEventOf(naming, partition, msg.subject, msg.data);
    return d.ok ? { ok: true, value: { msg, seq: msg.seq, ...d.value } } : d;
  };
}

/** Definition events; anything else on the definition subjects is a dead letter. */
export function definitionDecoder(naming: Naming): (msg: JsMsg) => Decoded<DecodedDefinitionEvent> {
  return (msg) => {
    const d = decodeEvent(msg.data);
    if (!d.ok) return notAnEvent(d);
    const event = d.event;
    if (event.type !== 'workflow.defined.v1') {
      return {
        ok: false,
        kind: 'invalid',
        reason: `a ${event.type} event on a definition subject`,
      };
    }
    const address = naming.parseWorkflowSubject(msg.subject);
    if (
      address === null ||
      address.workflowId !== event.workflowId ||
      event.definition.id !== event.workflowId ||
      (event.principal !== undefined && event.principal.tenant !== address.tenant)
    ) {
      return {
        ok: false,
        kind: 'invalid',
        reason: `subject ${msg.subject} does not match the definition's tenant and id`,
      };
    }
    return { ok: true, value: { msg, seq: msg.seq, tenant: address.tenant, event } };
  };
}
