export { createApp, MAX_BODY_BYTES } from './app.ts';
export type { AppEnv, Lang, Role, SessionUser, WebDeps } from './context.ts';
export { loadWebEnv, securityOptionsOf, type WebEnv, type WebEnvResult, webEnvSchema } from './env.ts';
export { type RunningWeb, startWeb, type WebOptions } from './main.ts';
export { createConfigPublisher, createRedisLimiter } from './redis.ts';
