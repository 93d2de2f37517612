// The job catalogue lives in @kikimimi/db (shared with the web console, which enqueues decisions).
export {
  CONFIG_CHANNEL,
  escalateJobSchema,
  ingestJobSchema,
  jobId,
  notifyJobSchema,
  type PollJob,
  pollJobSchema,
  QUEUES,
  type QueueName,
  refreshJobSchema,
  replyJobSchema,
  sweepJobSchema,
} from '@kikimimi/db';
