export { parseEnv, ConfigError } from './parse-env';
export { commonEnvFields, CommonEnv, checkCredentials } from './common-env';
export { loadConfig } from './load-config';
export { natsSettingsOf, namingOptionsOf, streamSettingsOf } from './service-settings';
export { guardEnvFields, guardPoolSettingsOf } from './guard-env';
export { authEnvFields, AuthEnv, authSettingsOf } from './auth-env';
