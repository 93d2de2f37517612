export * as xProblems from './x-problems.ts';
export {
  startXSandbox,
  type XEndpointUsage,
  type XSandbox,
  type XSandboxAccount,
  type XSandboxOptions,
  type XSandboxReplyInput,
  type XUsage,
} from './x-sandbox.ts';
export type {
  XEntities,
  XHashtagEntity,
  XMentionEntity,
  XReferenceType,
  XSandboxTweet,
  XSandboxUser,
  XTweetMetrics,
  XUrlEntity,
} from './x-store.ts';
