import { z } from 'zod';

/**
 * The job catalogue: every queue and the one schema of its payload. Producers and consumers both
 * parse with these, so a payload that does not fit fails loudly at the edge.
 */
export const QUEUES = {
  poll: 'poll',
  ingest: 'ingest',
  notify: 'notify',
  reply: 'reply',
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

export const notifyJobSchema = z.object({ matchId: z.string().min(1) });
export type NotifyJob = z.infer<typeof notifyJobSchema>;

export const replyJobSchema = z.object({ matchId: z.string().min(1) });
export type ReplyJob = z.infer<typeof replyJobSchema>;

export const sweepJobSchema = z.object({});

/** BullMQ job ids may not contain ':' nor be all digits. */
export const jobId = (kind: string, id: string) => `${kind}-${id.replace(/[^A-Za-z0-9_-]/gu, '_')}`;

/** Channel on which the console announces configuration changes. */
export const CONFIG_CHANNEL = 'config-changed';
