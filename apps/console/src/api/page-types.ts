/** The shapes of the token, place and definition pages (the generated client's types). */
import type { components } from '@cb/client';

type Schemas = components['schemas'];

export type DefinitionCheck = Schemas['DefinitionCheck'];
export type FieldError = Schemas['FieldError'];
export type WorkflowDefinitionInput = Schemas['WorkflowDefinitionInput'];
export type BulkFirePreview = Schemas['BulkFirePreview'];
export type BulkFireBody = Schemas['BulkFireBody'];
export type BulkFireResult = Schemas['BulkFireResult'];
export type TokenTimerView = Schemas['TokenTimerView'];
