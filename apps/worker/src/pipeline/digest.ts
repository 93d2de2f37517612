import type { CustomerVoice, EffectStats, SurgePeriodSummary } from '@kikimimi/db';
import { JOB_IDS, JOBS } from '@kikimimi/desk';
import { organizationTimeZone } from '@kikimimi/rules';
import type { Queue } from 'bullmq';
import type { PipelineDeps } from './deps.ts';

/*
 * The scheduled digest (conversations.digest): the period's customer voices, the effect of our
 * replies and the surges (their size and how they were handled), posted to a Discord channel. A job
 * scheduler ticks every few minutes; a tick finds the latest period that ended (a day or a week up to
 * `hour`:00 in the organisation's time zone) and queues its job under a job id per period, so a
 * period is queued once however many ticks see it. The period's
 * job posts it, and an audit entry (`digest.posted`, target `digest:<end>`) keeps a period from being
 * posted twice even when Redis lost its jobs; a crash between the post and that entry posts it again.
 */

/** What a digest shows: the same figures as the console's /digest page. */
export interface DigestView {
  readonly from: Date;
  readonly to: Date;
  readonly timeZone: string;
  readonly effect: EffectStats;
  /** The period's voices, newest first (at most DIGEST_VOICES). */
  readonly voices: readonly CustomerVoice[];
  /** More voices than listed. */
  readonly moreVoices: boolean;
  /** Surges with posts in the period, newest first (at most DIGEST_SURGES), with how they were handled. */
  readonly surges: readonly SurgePeriodSummary[];
  /** More surges than listed. */
  readonly moreSurges: boolean;
  /** Watch id → its name in the configuration (the surges say which watch by name). */
  readonly watchNames: ReadonlyMap<string, string>;
}

/** Voices listed in one Discord digest (the message has room for about this many). */
export const DIGEST_VOICES = 15;
/** Surges listed in one Discord digest (the rest are on the console's /digest page). */
export const DIGEST_SURGES = 5;
/** How often the digest scheduler ticks: a period is posted at most this long after it ends. */
export const DIGEST_TICK_MS = 5 * 60_000;
export const DIGEST_SCHEDULER_ID = 'digest';
const POSTED = 'digest.posted';
/** Periods already posted are looked up among this many latest entries (a daily digest: 100 days). */
const POSTED_LOOKBACK = 100;

export const digestKey = (to: Date) => `digest:${to.toISOString()}`;

export type DigestOutcome =
  | { readonly outcome: 'off' | 'queued' | 'exists' | 'posted' | 'already_posted' | 'no_discord' }
  | { readonly outcome: 'no_channel'; readonly channel: string };

/** The digest of [from, to): effect figures, the voices tagged in it and its surges. */
export async function loadDigest(
  deps: Pick<PipelineDeps, 'store'>,
  period: { readonly from: Date; readonly to: Date },
  timeZone: string,
): Promise<DigestView> {
  const [effect, voices, surges, { config }] = await Promise.all([
    deps.store.stats.effect(period),
    deps.store.stats.voices(period, { limit: DIGEST_VOICES + 1 }),
    deps.store.surges.inPeriod(period.from, period.to, DIGEST_SURGES + 1),
    deps.store.config.current(),
  ]);
  return {
    from: period.from,
    to: period.to,
    timeZone,
    effect,
    voices: voices.slice(0, DIGEST_VOICES),
    moreVoices: voices.length > DIGEST_VOICES,
    surges: surges.slice(0, DIGEST_SURGES),
    moreSurges: surges.length > DIGEST_SURGES,
    watchNames: new Map(config.watches.map((w) => [w.id, w.name ?? w.id])),
  };
}

/**
 * A tick (no period): queues the latest period that ended. A period: posts it to the digest channel
 * unless it was posted already.
 */
export async function handleDigest(
  payload: { readonly from?: string | undefined; readonly to?: string | undefined },
  deps: PipelineDeps,
  queue: Pick<Queue, 'add' | 'getJob'>,
): Promise<DigestOutcome> {
  const { config } = await deps.engines.current();
  const settings = config.conversations.digest;
  const timeZone = organizationTimeZone(config);
  if (payload.from === undefined || payload.to === undefined) {
    if (settings.every === 'off') return { outcome: 'off' };
    const period = await deps.store.stats.digestPeriod({
      now: deps.now(),
      every: settings.every,
      hour: settings.hour,
      timeZone,
    });
    const id = JOB_IDS.digest(period.to);
    if ((await queue.getJob(id)) !== undefined) return { outcome: 'exists' };
    await queue.add(
      'digest',
      { from: period.from.toISOString(), to: period.to.toISOString() },
      { ...JOBS.digest.options, jobId: id },
    );
    return { outcome: 'queued' };
  }

  const period = { from: new Date(payload.from), to: new Date(payload.to) };
  const key = digestKey(period.to);
  const posted = await deps.store.audit.list({ action: POSTED, limit: POSTED_LOOKBACK });
  if (posted.some((entry) => entry.target === key)) return { outcome: 'already_posted' };
  if (deps.notifier === null) return { outcome: 'no_discord' };
  const view = await loadDigest(deps, period, timeZone);
  const result = await deps.notifier.digest(settings.channel, view);
  if (result === 'no_channel') {
    deps.log.warn(
      { channel: settings.channel },
      'digest: no Discord channel is bound to conversations.digest.channel; bind it in the console’s Discord settings (the digest is on the console’s /digest page)',
    );
    return { outcome: 'no_channel', channel: settings.channel };
  }
  await deps.store.audit.record({ kind: 'system', id: 'kikimimi', name: 'kikimimi' }, POSTED, key, {
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    channel: settings.channel,
    replies: view.effect.totals.sent,
    voices: view.voices.length,
    surges: view.surges.length,
  });
  deps.log.info({ from: period.from, to: period.to, channel: settings.channel }, 'digest posted');
  return { outcome: 'posted' };
}

/** The digest's job scheduler: ticking while conversations.digest is on, removed while it is off. */
export async function syncDigestScheduler(
  queue: Queue,
  deps: Pick<PipelineDeps, 'engines'>,
  everyMs = DIGEST_TICK_MS,
): Promise<boolean> {
  const { config } = await deps.engines.current();
  if (config.conversations.digest.every === 'off') {
    await queue.removeJobScheduler(DIGEST_SCHEDULER_ID);
    return false;
  }
  await queue.upsertJobScheduler(
    DIGEST_SCHEDULER_ID,
    { every: everyMs },
    { name: 'digest', data: {}, opts: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 } },
  );
  return true;
}
