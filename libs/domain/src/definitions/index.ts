export { analyzeDefinition, type DefinitionGraph } from './analyze-definition';
export { definitionShapeErrors, validateDefinition } from './validate-definition';
