export { isBlockedAddress } from './blocked-address';
export {
  checkTargetUrl,
  MAX_TARGET_URL_LENGTH,
  type CheckTargetOptions,
  type ResolveAll,
  type TargetCheck,
} from './check-target-url';
export { guardedLookup } from './guarded-lookup';
export { OutboundRefusedError, type OutboundRefusalCode } from './errors';
