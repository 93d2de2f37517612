export {
  checkReplyText,
  createDesk,
  type Desk,
  type DeskActor,
  type DeskDeps,
  escalationTargets,
  MAX_REASON,
  MAX_REPLY_INPUT,
  mayDecide,
  type ReplyInput,
  replyDraft,
  replyKey,
} from './desk.ts';
export { createJobQueues, type Enqueue, type EnqueueOptions, type JobQueues } from './job-queues.ts';
export {
  CONFIG_CHANNEL,
  isJobName,
  JOB_IDS,
  JOB_NAMES,
  JOBS,
  type JobName,
  type JobPayload,
  jobId,
  parsePayload,
  QUEUES,
} from './jobs.ts';
export { failureMessage, type Lang, problemMessage } from './messages.ts';
export { createOutboxRelay, type OutboxRelay, type RelayLog } from './outbox-relay.ts';
export type {
  DecisionKindDone,
  DeskFailure,
  DeskField,
  DeskOutcome,
  DeskProblem,
  DeskSuccess,
} from './outcomes.ts';
