export { analyzeDefinition, type DefinitionGraph } from './analyze-definition';
export { validateDefinition } from './validate-definition';
