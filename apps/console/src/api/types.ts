/**
 * The API's shapes, taken from the generated client's types (type-only: nothing of openapi-fetch
 * or the contract checker lands in the bundle), so a change to the document breaks the build.
 */
import type { components } from '@cb/client';

type Schemas = components['schemas'];

export type Session = Schemas['Session'];
export type Scope = Session['scopes'][number];
export type WorkflowResource = Schemas['WorkflowResource'];
export type WorkflowPage = Schemas['WorkflowPage'];
export type TransitionDefinition = Schemas['TransitionDefinition'];
export type StatsResponse = Schemas['StatsResponse'];
export type Token = Schemas['Token'];
export type TokenPage = Schemas['TokenPage'];
export type HistoryPage = Schemas['HistoryPage'];
export type TransitionAvailability = Schemas['TransitionAvailability'];
export type GuardFailure = Schemas['GuardFailure'];
export type SequencedEvent = Schemas['SequencedEvent'];
export type TokenEvent = SequencedEvent['event'];
export type Problem = Schemas['Problem'];
