export {
  commonEnv,
  databaseEnvSchema,
  type EnvResult,
  encryptionKeyVar,
  flagVar,
  intVar,
  logLevelVar,
  parseEnv,
  portVar,
  urlVar,
} from './env.ts';
export {
  createTranslator,
  fillText,
  LANGS,
  type Lang,
  langOfLocale,
  type Text,
  type TextVars,
  type Translator,
} from './i18n.ts';
export { createLogger, REDACT_PATHS } from './log.ts';
export { preflight, StartupError } from './preflight.ts';
export { errorMessage, maskUrl, redactSecrets } from './secrets.ts';
export { envOrExplain, runService } from './startup.ts';
