export * as xProblems from './x-problems.ts';
export {
  startXSandbox,
  type XSandbox,
  type XSandboxAccount,
  type XSandboxOptions,
} from './x-sandbox.ts';
export type {
  XEntities,
  XHashtagEntity,
  XMentionEntity,
  XReferenceType,
  XSandboxTweet,
  XSandboxUser,
  XUrlEntity,
} from './x-store.ts';
