import { platformSchema } from '@kikimimi/rules';
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

/*
 * The job catalogue: every queue, the one schema of its payload, its job options and how its job id is
 * made. Producers (the desk's outbox relay, the worker's own pipeline, the console) and the consumer
 * (the worker's processor table) all use it, so a payload that does not fit fails loudly at the edge
 * and a job is retried the same way whoever queued it.
 */

const id = z.string().min(1).max(200);
const matchRef = z.strictObject({ matchId: id });

/** Custom backoff = the worker's `backoffMs` (1 s doubling to 60 s, jitter): for jobs that wait out Discord. */
const LONG_RETRY = { attempts: 1_000, backoff: { type: 'custom' } } as const;

export const JOBS = {
  /** Poll one source of one account (from a job scheduler per source; a failed poll backs off itself). */
  poll: {
    schema: z.strictObject({ accountId: id, sourceKey: id }),
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
  },
  /**
   * Posts that arrived on a stream, handed on in batches. `cursor`: where the stream stands after
   * them (Bluesky), stored with the posts in one transaction; a batch may carry only a cursor.
   */
  ingest: {
    schema: z
      .strictObject({ accountId: id, sourceKey: id, posts: z.array(z.unknown()), cursor: id.optional() })
      .refine((p) => p.posts.length > 0 || p.cursor !== undefined, {
        message: 'an ingest job carries posts, a stream cursor or both',
        path: ['posts'],
      }),
    options: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: 1000,
      removeOnFail: 5000,
    },
  },
  /**
   * An author edited or deleted a post (from a stream, in the order the stream said it). `post` of an
   * edit is the whole post as it now reads, checked by the worker like a streamed post.
   */
  postChange: {
    schema: z.strictObject({
      accountId: id,
      change: z.discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('edit'), post: z.unknown() }),
        z.strictObject({ kind: z.literal('delete'), platform: platformSchema, postId: id }),
      ]),
    }),
    options: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 1_000 },
      removeOnComplete: 1000,
      removeOnFail: 5000,
    },
  },
  /** Post a match's review message (once: job id per match). */
  notify: { schema: matchRef, options: { ...LONG_RETRY, removeOnComplete: 1000, removeOnFail: 1000 } },
  /**
   * Send a reply of a match's case (once: job id per reply; the reply row makes it exactly-once).
   * Without `replyId`: the reply to the matched post (seq 1).
   */
  reply: {
    schema: z.strictObject({ matchId: id, replyId: z.uuid().optional() }),
    options: { attempts: 20, backoff: { type: 'custom' }, removeOnComplete: 1000, removeOnFail: 5000 },
  },
  /** Bring a match's review message in step after a decision (job id per decision). */
  refresh: { schema: matchRef, options: { ...LONG_RETRY, removeOnComplete: true, removeOnFail: 1000 } },
  /** Post a match into the escalation channel of `target` (job id per match and target). */
  escalate: {
    schema: z.strictObject({ matchId: id, target: id, actorName: z.string().min(1).max(200) }),
    options: { ...LONG_RETRY, removeOnComplete: 1000, removeOnFail: 1000 },
  },
  /** Ask one account's platform what customers said back to our replies (from a job scheduler per account). */
  follow: {
    schema: z.strictObject({ accountId: id }),
    options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 },
  },
  /**
   * Show one event of a case (the customer's answer, a teammate's note) in the Discord thread under the
   * review message, and bring the review message in step (job id per event).
   */
  caseUpdate: {
    schema: z.strictObject({ matchId: id, eventId: z.uuid(), notify: z.boolean().optional() }),
    options: { ...LONG_RETRY, removeOnComplete: 1000, removeOnFail: 1000 },
  },
  /**
   * The digest of customer voices and effect figures (conversations.digest). Without a period: from
   * the job scheduler, queues the latest period that ended (job id per period); with one: posts it
   * to the digest's Discord channel, once.
   */
  digest: {
    schema: z.strictObject({ from: z.iso.datetime().optional(), to: z.iso.datetime().optional() }),
    // Completed period jobs are kept (a tick that finds the period's job does not queue it again).
    options: { ...LONG_RETRY, attempts: 50, removeOnComplete: 500, removeOnFail: 500 },
  },
  /**
   * New unsuppressed matches to judge for surges, matches held for a forming surge to ask about again
   * as their hold ends, or a surge a reviewer closed: processed one at a time, in order, by the one
   * worker holding the surge lease (the detector's state lives there).
   */
  surge: {
    schema: z.union([
      z.strictObject({ matchIds: z.array(id).min(1).max(1_000) }),
      z.strictObject({ reconsiderIds: z.array(id).min(1).max(1_000) }),
      z.strictObject({ closeSurgeId: id }),
    ]),
    options: {
      attempts: 20,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: 1000,
      removeOnFail: 5000,
    },
  },
  /** Post or edit a surge's one Discord message (job id per surge and 5-second window: edits are paced). */
  surgeMessage: {
    schema: z.strictObject({ surgeId: id }),
    options: { ...LONG_RETRY, removeOnComplete: 1000, removeOnFail: 1000 },
  },
  /** Post a surge into the escalation channel of `target`: one ping (job id per surge and target). */
  surgeEscalate: {
    schema: z.strictObject({ surgeId: id, target: id, actorName: z.string().min(1).max(200) }),
    options: { ...LONG_RETRY, removeOnComplete: 1000, removeOnFail: 1000 },
  },
  /** Post a surge's announcement on one account (once: job id per announcement; the row makes it exactly-once). */
  announce: {
    schema: z.strictObject({ announcementId: z.uuid() }),
    options: { attempts: 20, backoff: { type: 'custom' }, removeOnComplete: 1000, removeOnFail: 5000 },
  },
  /** Re-drive what a crash or a Redis loss left behind (from a job scheduler). */
  sweep: { schema: z.strictObject({}), options: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 } },
} as const satisfies Record<string, { schema: z.ZodType; options: JobsOptions }>;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['schema']>;
export const JOB_NAMES = Object.keys(JOBS) as JobName[];

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOBS, name);
}

/** BullMQ job ids may not contain ':' nor be all digits. */
export const jobId = (kind: string, key: string) => `${kind}-${key.replace(/[^A-Za-z0-9_-]/gu, '_')}`;

/** The job ids that make each effect happen once. */
export const JOB_IDS = {
  notify: (matchId: string) => jobId('notify', matchId),
  /** The reply to the matched post by match id (as before follow-ups existed); a follow-up by its own id. */
  reply: (matchId: string, reply?: { readonly id: string; readonly seq: number }) =>
    jobId('reply', reply === undefined || reply.seq === 1 ? matchId : reply.id),
  caseUpdate: (eventId: string) => jobId('case', eventId),
  refresh: (matchId: string, decisionId: string) => jobId('refresh', `${matchId}-${decisionId}`),
  escalate: (matchId: string, target: string) => jobId('escalate', `${matchId}-${target}`),
  /** One digest per period, by the instant it ends. */
  digest: (to: Date) => jobId('digest', to.toISOString()),
  surge: (firstMatchId: string) => jobId('surge', firstMatchId),
  surgeClose: (surgeId: string) => jobId('surgeclose', surgeId),
  surgeReconsider: (firstMatchId: string) => jobId('surgeagain', firstMatchId),
  /** One message job per surge and window of SURGE_EDIT_MS: at most one edit per window. */
  surgeMessage: (surgeId: string, window: number) => jobId('surgemsg', `${surgeId}-${window}`),
  announce: (announcementId: string) => jobId('announce', announcementId),
  surgeEscalate: (surgeId: string, target: string) => jobId('surgeesc', `${surgeId}-${target}`),
} as const;

/** A surge's Discord message is edited at most once per this many ms. */
export const SURGE_EDIT_MS = 5_000;

/** Checks a payload against its job's schema; the error names the job and every fault. */
export function parsePayload<N extends JobName>(name: N, payload: unknown): JobPayload<N> {
  const parsed = JOBS[name].schema.safeParse(payload);
  if (!parsed.success) {
    const faults = parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
    throw new TypeError(`a ${name} job does not fit the catalogue: ${faults.join('; ')}`);
  }
  return parsed.data as JobPayload<N>;
}

/** Redis channel (after the key prefix) on which configuration changes are announced. */
export const CONFIG_CHANNEL = 'config-changed';

/**
 * Redis channel (after the key prefix) on which changed matches are announced, for the console's live
 * inbox: the worker after ingest (new matches) and after a decision's, a reply's or a case event's
 * processing; the console after its own decisions. Messages: {@link MatchesChanged} as JSON.
 */
export const MATCHES_CHANNEL = 'matches-changed';

const matchesChangedSchema = z.strictObject({
  kind: z.enum(['new', 'changed']),
  ids: z.array(z.uuid()).min(1).max(5_000),
});

/** Matches that appeared (`new`) or changed (`changed`). */
export type MatchesChanged = z.infer<typeof matchesChangedSchema>;

/** The message announcing `ids` on {@link MATCHES_CHANNEL}. */
export const matchesChangedMessage = (kind: MatchesChanged['kind'], ids: readonly string[]): string =>
  JSON.stringify({ kind, ids });

/** A message read from {@link MATCHES_CHANNEL}; null when it is not one (never trusted blindly). */
export function parseMatchesChanged(text: string): MatchesChanged | null {
  try {
    const parsed = matchesChangedSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
