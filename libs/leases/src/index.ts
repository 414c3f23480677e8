export {
  LeaseManager,
  newWorkerId,
  RENEW_SHARE,
  VALID_SHARE,
  type LeaseHandle,
  type LeaseItem,
  type LeaseKeys,
  type LeaseManagerOptions,
  type RevokeReason,
} from './lease-manager';
