export {
  EventGenerator,
  type EventSink,
  type GeneratorOptions,
  type GeneratorResult,
} from './event-generator';
export { readBucket } from './read-bucket';
export { prng } from './prng';
