import type { SequencedEvent, Token, TransitionAvailability, WorkflowResource } from '@cb/schemas';

/**
 * Our resources in the original's shapes (field names as its GraphQL schema has them). Pure:
 * the resolvers read, these rename.
 */

export interface GqlTransition {
  id: string;
  name: string;
  fromPlaces: string[];
  toPlace: string;
  conditions: string[];
  description: string | null;
  guard: unknown;
}

export interface GqlWorkflow {
  id: string;
  name: string;
  description: string | null;
  places: string[];
  transitions: GqlTransition[];
  initialPlace: string;
  finalPlaces: string[];
  createdAt: string;
  updatedAt: string;
  version: number;
  definitionVersion: number;
  analysis: WorkflowResource['analysis'];
}

export function toGqlWorkflow(w: WorkflowResource): GqlWorkflow {
  return {
    id: w.id,
    name: w.name,
    description: w.description ?? null,
    places: w.places,
    transitions: w.transitions.map((t) => ({
      id: t.id,
      name: t.id,
      fromPlaces: t.from,
      toPlace: t.to,
      conditions: t.guard !== undefined ? [JSON.stringify(t.guard)] : [],
      description: t.description ?? null,
      guard: t.guard ?? null,
    })),
    initialPlace: w.initialPlace,
    finalPlaces: w.finalPlaces ?? [],
    createdAt: w.createdAt,
    // Definitions are immutable: the latest version was defined when it was created.
    updatedAt: w.createdAt,
    version: w.version,
    definitionVersion: w.version,
    analysis: w.analysis,
  };
}

/** A token as both Token and NATSToken resolve it; the nested fields come from loaders. */
export interface GqlToken {
  id: string;
  workflowId: string;
  place: string;
  data: unknown;
  metadata: unknown;
  createdAt: string;
  updatedAt: string;
  version: number;
  definitionVersion: number;
  natsSequence: number;
  natsTimestamp: string;
  natsSubject: string;
}

export function toGqlToken(t: Token, subject: string): GqlToken {
  return {
    id: t.id,
    workflowId: t.workflowId,
    place: t.place,
    data: t.data,
    metadata: t.metadata,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    version: t.version,
    definitionVersion: t.definitionVersion,
    natsSequence: t.version,
    natsTimestamp: t.updatedAt,
    natsSubject: subject,
  };
}

export interface GqlHistoryEvent {
  timestamp: string;
  transition: string | null;
  fromPlace: string | null;
  toPlace: string;
  data: unknown;
}

/** `Token.history`: every event of the token (creation, transitions, patches, deletion). */
export function toHistory(events: readonly SequencedEvent[]): GqlHistoryEvent[] {
  const out: GqlHistoryEvent[] = [];
  for (const { event } of events) {
    if (!('state' in event) || !('tokenId' in event)) continue;
    const state = event.state as { place: string; data: unknown };
    out.push({
      timestamp: event.occurredAt,
      transition: event.type === 'token.transitioned.v1' ? event.transition : null,
      fromPlace: event.type === 'token.transitioned.v1' ? event.from : null,
      toPlace: state.place,
      data: state.data,
    });
  }
  return out;
}

export interface GqlTransitionRecord {
  fromPlace: string;
  toPlace: string;
  transitionId: string;
  timestamp: string;
  triggeredBy: string | null;
  natsSequence: number;
  metadata: unknown;
}

/** `NATSToken.transitionHistory`: the transitions only, each with its event's seq. */
export function toTransitionHistory(events: readonly SequencedEvent[]): GqlTransitionRecord[] {
  const out: GqlTransitionRecord[] = [];
  for (const { seq, event } of events) {
    if (event.type !== 'token.transitioned.v1') continue;
    out.push({
      fromPlace: event.from,
      toPlace: event.to,
      transitionId: event.transition,
      timestamp: event.occurredAt,
      triggeredBy: event.triggeredBy ?? event.principal?.keyId ?? null,
      natsSequence: seq,
      metadata: event.state.metadata,
    });
  }
  return out;
}

export function toAvailableTransition(t: TransitionAvailability) {
  return {
    id: t.id,
    name: t.id,
    fromPlaces: t.from,
    toPlace: t.to,
    description: t.description ?? null,
    enabled: t.enabled,
    reasons: t.reasons,
  };
}
