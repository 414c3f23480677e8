export {
  startService,
  stopAll,
  serviceMain,
  type ServiceName,
  type ServiceProcess,
  type StartServiceOptions,
  type StopServiceOptions,
} from './service-process';
export { REPO_ROOT } from './repo-root';
export {
  deploymentEnv,
  randomAdminKey,
  adminAuthorization,
  startCommandService,
  startProjectionWorker,
  startAutomationWorker,
  startGateway,
  startServiceStack,
  natsUserEnv,
  type ServiceStack,
  type ServiceStackOptions,
  type ServiceWithOps,
} from './service-stack';
