export { type StoredTokenEvent } from './stored-event';
export { planTokenWrites, type TokenWritePlan } from './plan-token-writes';
export { applyStatsEvents } from './apply-stats-events';
export { emptyStats } from './empty-stats';
export { sumStats } from './sum-stats';
export { hourKey, pruneHourly, HOURLY_WINDOW_HOURS } from './hourly';
export { definitionKeysFor, isNewerDefinition } from './definition-keys';
export { toTokenDoc } from './token-doc';
export { foldReadModels, type FoldedReadModels } from './fold-read-models';
export {
  CHUNK_MAX_IDS,
  CHUNK_MIN_IDS,
  chunkPosition,
  chunksToRead,
  clipToRange,
  emptyHead,
  firstAfter,
  planIndexEdit,
  type ChunkRef,
  type IndexChunk,
  type IndexEditPlan,
  type IndexHead,
  type IndexOps,
} from './ordered-index';
export { attributeText } from './search-attributes';
