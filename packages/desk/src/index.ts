export {
  createDesk,
  type Desk,
  type DeskActor,
  type DeskDeps,
  escalationTargets,
  type ReplyInput,
  replyDraft,
} from './desk.ts';
export { createJobQueues, type Enqueue, type EnqueueOptions, type JobQueues } from './job-queues.ts';
export {
  CONFIG_CHANNEL,
  JOB_IDS,
  JOB_NAMES,
  JOBS,
  type JobName,
  type JobPayload,
  jobId,
  MATCHES_CHANNEL,
  type MatchesChanged,
  matchesChangedMessage,
  parseMatchesChanged,
  parsePayload,
  SURGE_EDIT_MS,
} from './jobs.ts';
export { failureMessage, type Lang, problemMessage, skipMessage } from './messages.ts';
export { createOutboxRelay, type OutboxRelay, type RelayLog } from './outbox-relay.ts';
export type {
  DecisionKindDone,
  DeskFailure,
  DeskField,
  DeskOutcome,
  DeskProblem,
  DeskSuccess,
} from './outcomes.ts';
export {
  announcementKey,
  createSurgeDesk,
  type SurgeDesk,
  type SurgeDeskDeps,
  type SurgeOutcome,
  type SurgeSuccess,
} from './surge-desk.ts';
export {
  MAX_SURGE_REPLIES,
  measureSurgeReply,
  type ReplySource,
  replySourceOf,
  type SurgeReplyInput,
  type SurgeReplyLength,
  type SurgeSkip,
  type SurgeSkipReason,
} from './surge-replies.ts';
