import { Type, type Static } from '@sinclair/typebox';
import { DefinitionAnalysis } from './definition';
import { FieldError } from './errors';

/**
 * `POST /v1/workflow-validations`: a definition as `POST /v1/workflows` takes it. The route takes
 * any JSON object, so that a definition still being written gets its shape problems listed in
 * the answer (200) like every other problem, instead of a 400 for the first ones.
 */
export const DefinitionCheckBody = Type.Object(
  {},
  {
    additionalProperties: true,
    description:
      'a workflow definition, as the body of `POST /v1/workflows` (`WorkflowDefinitionInput`); any JSON object is checked',
  },
);
export type DefinitionCheckBody = Static<typeof DefinitionCheckBody>;

/** What checking a definition found, without storing anything. */
export const DefinitionCheck = Type.Object({
  valid: Type.Boolean({
    description: 'true when `POST /v1/workflows` would accept the definition (ids aside)',
  }),
  errors: Type.Array(FieldError, {
    description:
      'every problem, with a JSON Pointer into the definition and, for guard limits and compile errors, the code the create would answer',
  }),
  /** The structural warnings the create would store; present once the input has a definition's shape. */
  analysis: Type.Optional(DefinitionAnalysis),
});
export type DefinitionCheck = Static<typeof DefinitionCheck>;
