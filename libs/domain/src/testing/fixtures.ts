// Test-only helpers for this lib's specs; not exported from the package.
import { type WorkflowDefinition, type WorkflowDefinitionInput } from '@cb/schemas';
/* eslint-disable @nx/enforce-module-boundaries -- test-only: the shared fixture workflows live
   at the repo root, outside every project; importing the JSON keeps them type-checked. */
import articlePublishing from '../../../../fixtures/workflows/article-publishing.json';
import documentReview from '../../../../fixtures/workflows/document-review.json';
import orderProcessing from '../../../../fixtures/workflows/order-processing.json';
import softwareDeployment from '../../../../fixtures/workflows/software-deployment.json';
/* eslint-enable @nx/enforce-module-boundaries */
import { type DecideContext } from '../decider';
import { compileWorkflow, type CompiledWorkflow } from '../workflow';

export const FIXTURES = {
  article_publishing: articlePublishing,
  document_review: documentReview,
  order_processing: orderProcessing,
  software_deployment: softwareDeployment,
} satisfies Record<string, WorkflowDefinitionInput>;
export type FixtureName = keyof typeof FIXTURES;

export const T0 = '2024-05-01T10:00:00.000Z';

/** A fresh deep copy of a fixture, so a test can modify it freely. */
export function fixture(name: FixtureName): WorkflowDefinitionInput {
  return structuredClone(FIXTURES[name]) as WorkflowDefinitionInput;
}

/** A definition as stored after DefineWorkflow. */
export function stored(input: WorkflowDefinitionInput, version = 1): WorkflowDefinition {
  return { ...input, version, createdAt: T0 };
}

export function compiledFixture(name: FixtureName, version = 1): CompiledWorkflow {
  return compileWorkflow(stored(fixture(name), version));
}

/** `ms` milliseconds after T0, as an ISO timestamp. */
export function at(ms: number): string {
  return new Date(Date.parse(T0) + ms).toISOString();
}

export function context(overrides: Partial<DecideContext> = {}): DecideContext {
  return { now: T0, eventId: 'evt-1', newTokenId: 'tok-generated', ...overrides };
}
