import { z } from 'zod';

/**
 * The job catalogue: every queue and the one schema of its payload, shared by the producers (the
 * worker itself, the web console) and the consumers (the worker). A payload that does not fit fails
 * loudly at the edge.
 */
export const QUEUES = {
  poll: 'poll',
  ingest: 'ingest',
  notify: 'notify',
  reply: 'reply',
  /** Re-render a match's review message after a decision made elsewhere (the web console). */
  refresh: 'refresh',
  /** Post a match into an escalation channel (decided in the web console). */
  escalate: 'escalate',
  sweep: 'sweep',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const pollJobSchema = z.object({ accountId: z.string().min(1), sourceKey: z.string().min(1) });
export type PollJob = z.infer<typeof pollJobSchema>;

/** Posts that arrived on a stream, handed on in batches. */
export const ingestJobSchema = z.object({
  accountId: z.string().min(1),
  sourceKey: z.string().min(1),
  posts: z.array(z.unknown()).min(1),
});
export type IngestJob = z.infer<typeof ingestJobSchema>;

export const matchJobSchema = z.object({ matchId: z.string().min(1) });
export type MatchJob = z.infer<typeof matchJobSchema>;
export const notifyJobSchema = matchJobSchema;
export const replyJobSchema = matchJobSchema;
export const refreshJobSchema = matchJobSchema;

export const escalateJobSchema = z.object({
  matchId: z.string().min(1),
  target: z.string().min(1),
  actorName: z.string().min(1),
});
export type EscalateJob = z.infer<typeof escalateJobSchema>;

export const sweepJobSchema = z.object({});

/** BullMQ job ids may not contain ':' nor be all digits. */
export const jobId = (kind: string, id: string) => `${kind}-${id.replace(/[^A-Za-z0-9_-]/gu, '_')}`;

/** Redis channel (after the key prefix) on which configuration changes are announced. */
export const CONFIG_CHANNEL = 'config-changed';
