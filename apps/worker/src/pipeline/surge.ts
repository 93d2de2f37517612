import { JOB_IDS, type JobPayload, type JobQueues } from '@kikimimi/desk';
import {
  baselineFrom,
  createSurgeDetector,
  type Intent,
  intentSchema,
  normalizeText,
  type Platform,
  platformSchema,
  type SurgeConfig,
  type SurgeDetector,
  type SurgeMatch,
  type SurgeSummary,
  type SurgeVerdict,
} from '@kikimimi/rules';
import type { PipelineDeps } from './deps.ts';

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
/** A held match is asked about again this long before its hold ends (its notify job runs then). */
export const RECONSIDER_EARLY_MS = 2_000;
/**
 * How long a match is held when only its intent's flood says a surge is coming (no group of its own
 * forming): the surge is seconds away, and an everyday match of the same intent should not wait long.
 */
export const FLOOD_HOLD_MS = 15_000;
/**
 * A match its watch's open surge did not take in still "resembles" it when its words are at least this
 * much more typical of the surge's members than of the watch's usual matches (`SurgeDetector.resemblance`;
 * the surge takes in from `PROFILE_MIN` = 0.3). Such a match is reviewed in the surge's thread, after
 * the other reviews. Chosen with apps/worker/bench/surge-replay.ts (`SURGE_REPLAY_DEBUG=1`): during the
 * generator's outage, 18 of the 50 outage posts handed on at once and 4 of the 121 normal matches reach 0.
 */
export const RESEMBLANCE_MIN = 0;

/**
 * The deployment's one surge detector (see docs/adr/010-surges.md): held by the worker that holds the
 * surge lease, fed by the `surge` queue one job at a time, in order. It is rebuilt at start from the
 * stored matches (the baseline from hourly counts in SQL, the recent hours replayed), so a restart or a
 * takeover loses nothing. Ordinary matches go on to their own review message at once; members of a
 * surge are recorded (`matches.surge_id`) and the surge's one message is posted or edited.
 */
export interface SurgeRunner {
  handle(payload: JobPayload<'surge'>): Promise<{ ordinary: number; held: number; members: number }>;
  /** Closes surges quiet for the configured time (called now and then by the holder). */
  closeQuiet(now: number): Promise<number>;
}

type Deps = Pick<PipelineDeps, 'store' | 'engines' | 'log' | 'enqueue' | 'now'>;

/** The detector as the stored matches left it: what a new holder starts from. */
export async function rebuildSurgeRunner(deps: Deps, jobs: Pick<JobQueues, 'enqueue'>): Promise<SurgeRunner> {
  const { store, log } = deps;
  const { config } = await deps.engines.current();
  const settings: SurgeConfig = config.surges;
  const now = deps.now().getTime();
  const baselineSince = new Date(now - settings.baselineWeeks * WEEK - HOUR);
  // Recent matches are replayed (their windows, near-duplicate groups and open surges); older ones only
  // count towards the baseline.
  const replaySince = now - Math.max(2 * HOUR, (settings.windowMinutes + settings.quietMinutes) * 60_000 * 2);
  const [counts, history] = await Promise.all([
    store.surges.hourlyCounts(baselineSince),
    store.surges.history(new Date(replaySince)),
  ]);
  const replayHour = Math.floor(replaySince / HOUR) * HOUR;
  // Hours being replayed are counted by the replay itself.
  const baseline = baselineFrom(
    counts
      .filter((c) => c.hourStart.getTime() < replayHour && intentSchema.safeParse(c.intent).success)
      .map((c) => ({ ...c, intent: c.intent as Intent })),
    // Watched since the first stored match: an installation without history has seen nothing usual yet
    // (its first hour is not "two quiet hours"). Its exact time when it is replayed; an hour's start
    // when it is older (then the detector's first hour is long over).
    [
      ...counts.map((c) => c.hourStart.getTime()).filter((hourStart) => hourStart < replayHour),
      ...history.map((row) => row.at),
    ].reduce((a, b) => Math.min(a, b), now),
  );
  const detector = createSurgeDetector({ config: settings, baseline });
  const seen = new Map<string, number>();
  const closedByReviewers = new Set(
    (await store.surges.list({ status: 'closed', limit: 1000 })).map((s) => s.id),
  );
  const runner = createRunner(detector, seen, deps, jobs, settings);
  for (const row of history) {
    const match = toSurgeMatch(row);
    if (match === null) continue;
    seen.set(match.id, match.at);
    const verdict = detector.add(match);
    // A surge a reviewer closed stays closed in the detector too.
    if (verdict.kind !== 'ordinary' && closedByReviewers.has(verdict.surge.id)) {
      detector.close(verdict.surge.id, match.at);
      continue;
    }
    // Recorded again (idempotent): a crash between the detector and the database loses nothing.
    if (verdict.kind !== 'ordinary') await runner.record(verdict, match.id, { message: false });
    // Still held for a surge (by the holder before this one): asked as soon as the surge can tell, as
    // it would have been, not only when its hold ends.
    else if (row.surgeId === null && row.heldUntil !== null && row.heldUntil > now)
      runner.waitForSurge(
        match.watchId,
        match.id,
        row.heldUntil,
        verdict.forming !== undefined && verdict.forming.flood !== true,
      );
  }
  log.info(
    { replayed: history.length, open: detector.openSurges().length, groups: detector.clusterCount() },
    'surge detector rebuilt from the stored matches',
  );
  return runner;
}

function toSurgeMatch(row: {
  id: string;
  at: number;
  watchId: string;
  intent: string;
  text: string;
  platform: string;
}): SurgeMatch | null {
  const intent = intentSchema.safeParse(row.intent);
  const platform = platformSchema.safeParse(row.platform);
  if (!intent.success || !platform.success || row.watchId === '') return null;
  return {
    id: row.id,
    at: row.at,
    watchId: row.watchId,
    intent: intent.data,
    platform: platform.data as Platform,
    text: normalizeText(row.text),
  };
}

function createRunner(
  detector: SurgeDetector,
  seen: Map<string, number>,
  deps: Deps,
  jobs: Pick<JobQueues, 'enqueue'>,
  settings: SurgeConfig,
): SurgeRunner & {
  record(
    verdict: Extract<SurgeVerdict, { kind: 'started' | 'joined' }>,
    matchId: string,
    options: { message: boolean },
  ): Promise<void>;
  /** Remembers a held match, to be asked when its watch's surge can tell (see `askWhenSurgeReady`). */
  waitForSurge(watchId: string, id: string, until: number, forming: boolean): void;
} {
  const { store } = deps;
  const forgetBefore = () =>
    deps.now().getTime() - 2 * (settings.windowMinutes + settings.quietMinutes) * 60_000 - 2 * HOUR;

  /** Paced: one message job per surge and window; the job reads the surge as it then is. */
  const message = (surgeId: string) => deps.enqueue.surgeMessage(surgeId);

  const recordClosed = async (closed: readonly SurgeSummary[]) => {
    for (const surge of closed) {
      await store.surges.record(surge, []);
      await message(surge.id);
    }
  };

  const record = async (
    verdict: Extract<SurgeVerdict, { kind: 'started' | 'joined' }>,
    matchId: string,
    options: { message: boolean },
  ) => {
    const { joinedWithMessage } = await store.surges.record(verdict.surge, [matchId, ...verdict.earlier]);
    // Members whose own review message went out before they joined: edited to say so (not deleted).
    for (const id of joinedWithMessage) {
      await jobs.enqueue('refresh', { matchId: id }, { jobId: JOB_IDS.refresh(id, verdict.surge.id) });
    }
    if (options.message) await message(verdict.surge.id);
  };

  /**
   * Per watch and intent: matches handed on for their own review message in the last FLOOD_HOLD_MS,
   * and when. If their intent turns out to be flooded (the detector needs `minCount` of them to say so),
   * those whose message has not gone out yet wait like the ones after them.
   */
  const handedOn = new Map<string, { id: string; watchId: string; at: number }[]>();
  const floodKey = (match: Pick<SurgeMatch, 'watchId' | 'intent'>) => `${match.watchId}\u0000${match.intent}`;
  const holdBack = async (keys: ReadonlySet<string>, now: number) => {
    // As long as a match held for the flood alone, and never with `holdSeconds: 0` (never wait).
    const holdMs = Math.min(settings.holdSeconds * 1000, FLOOD_HOLD_MS);
    const entries: { id: string; watchId: string; until: Date }[] = [];
    for (const key of keys) {
      const recent = handedOn.get(key);
      if (recent === undefined) continue;
      handedOn.delete(key);
      for (const { id, watchId, at } of recent) {
        // Not worth it when its message is due before it could be asked again.
        if (at + holdMs - RECONSIDER_EARLY_MS > now)
          entries.push({ id, watchId, until: new Date(at + holdMs) });
      }
    }
    if (entries.length === 0) return 0;
    // Those whose notify job has run since are not held by it: the notify job reads the time first.
    const held = await store.surges.holdBack(entries);
    if (held.length === 0) return 0;
    const heldIds = new Set(held);
    for (const entry of entries)
      if (heldIds.has(entry.id)) waitForSurge(entry.watchId, entry.id, entry.until.getTime(), false);
    const first = Math.min(...entries.map((e) => e.until.getTime()));
    await jobs.enqueue(
      'surge',
      { reconsiderIds: held },
      {
        jobId: JOB_IDS.surgeReconsider(held[0] as string),
        delay: Math.max(0, first - RECONSIDER_EARLY_MS - now),
      },
    );
    return held.length;
  };

  /** Whether a match the surge did not take in still resembles it (`RESEMBLANCE_MIN`). */
  const isAlike = (match: SurgeMatch | null) => {
    if (match === null) return false;
    const score = detector.resemblance(match);
    return score !== null && score > RESEMBLANCE_MIN;
  };

  /**
   * Held matches whose hold is about to end: those the open surge takes in now become members. Returns
   * them; the others it was asked about (`notTaken`), and of those the ones that resemble the surge
   * (see `release`).
   */
  const reconsider = async (
    ids: readonly string[],
  ): Promise<{ members: Set<string>; notTaken: string[]; alike: Set<string>; forming: Set<string> }> => {
    const rows = await store.surges.history(new Date(0), ids);
    const alike = new Set<string>();
    const forming = new Set<string>();
    const notTaken: string[] = [];
    const joined = new Map<
      string,
      { verdict: Extract<SurgeVerdict, { kind: 'started' | 'joined' }>; ids: string[] }
    >();
    for (const row of rows) {
      // Already a member (or not judged by this detector: a rebuild replays it as it was).
      if (row.surgeId !== null || !seen.has(row.id)) continue;
      const match = toSurgeMatch(row);
      if (match === null) continue;
      const verdict = detector.reconsider(match);
      if (verdict.kind === 'ordinary') {
        notTaken.push(match.id);
        if (isAlike(match)) alike.add(match.id);
        if (verdict.forming) forming.add(match.id);
        continue;
      }
      const entry = joined.get(verdict.surge.id) ?? { verdict, ids: [] };
      entry.verdict = verdict;
      entry.ids.push(match.id);
      joined.set(verdict.surge.id, entry);
    }
    const members = new Set<string>();
    for (const [surgeId, { verdict, ids: memberIds }] of joined) {
      const { joinedWithMessage } = await store.surges.record(verdict.surge, memberIds);
      for (const id of joinedWithMessage)
        await jobs.enqueue('refresh', { matchId: id }, { jobId: JOB_IDS.refresh(id, surgeId) });
      await message(surgeId);
      for (const id of memberIds) members.add(id);
    }
    return { members, notTaken, alike, forming };
  };

  /**
   * Held matches let go by `release`, and when: the job at the end of their hold asks about them again
   * (one may join by then: its notify job skips it) but does not let them go a second time — their
   * review is on its way, in its place in line.
   */
  const letGo = new Map<string, number>();
  /**
   * Held matches the surge did not take in are reviewed now (in the surge's thread: the hold marked
   * them). Those that resemble the surge go after every other review waiting: most likely the flood's
   * own posts, they would crowd everyday matches caught in the hold out of the thread.
   */
  const release = async (ids: readonly string[], alike: ReadonlySet<string>, now: number) => {
    if (ids.length === 0) return;
    await store.surges.releaseHold(ids, new Date(now));
    for (const id of ids) letGo.set(id, now);
    // No longer waiting for the surge either (let go at the end of its hold while kept waiting).
    for (const waiting of waitingForSurge.values()) for (const id of ids) waiting.delete(id);
    // Needed until the hold-end jobs of those let go have run (`holdSeconds` after they were held).
    if (letGo.size > 1_000)
      for (const [id, at] of letGo) if (at < now - settings.holdSeconds * 1000 - 60_000) letGo.delete(id);
    const unlike = ids.filter((id) => !alike.has(id));
    if (unlike.length > 0) await deps.enqueue.release(unlike);
    if (unlike.length < ids.length)
      await deps.enqueue.release(
        ids.filter((id) => alike.has(id)),
        { alike: true },
      );
  };

  /**
   * Per watch: held matches (for a surge forming, for the flood of their intent, or held back), when
   * their hold ends, and whether a group of near-duplicates is forming around them. Once the watch's
   * surge has `minCount` members (enough to tell what they say), they are asked at once instead of at
   * the end of their hold: those it takes in join it. Of the others, those held only for the flood of
   * their intent are reviewed now (an everyday match caught in a flood then waits seconds, not the
   * whole hold); those around which a group is forming (when held, or by now: the detector says so
   * when asked) keep waiting — asked again each time the surge has grown by half — until they join or
   * FLOOD_HOLD_MS after they were first asked. A fast group of near-duplicates during a flood is
   * nearly always the outage's, and the surge takes most of them in within seconds as the group grows;
   * reviewed at once, each took a place in the surge's thread ahead of the everyday matches there
   * (docs/adr/010-surges.md, "Asked as soon as the surge can tell").
   */
  const waitingForSurge = new Map<
    string,
    Map<string, { until: number; forming: boolean; askedFirst?: number }>
  >();
  /** Per surge: its size when the matches waiting for it were last asked. */
  const askedAt = new Map<string, number>();
  const waitForSurge = (watchId: string, id: string, until: number, forming: boolean) => {
    const waiting =
      waitingForSurge.get(watchId) ??
      new Map<string, { until: number; forming: boolean; askedFirst?: number }>();
    const known = waiting.get(id);
    waiting.set(id, {
      until: Math.max(until, known?.until ?? 0),
      forming: forming || (known?.forming ?? false),
      ...(known?.askedFirst === undefined ? {} : { askedFirst: known.askedFirst }),
    });
    waitingForSurge.set(watchId, waiting);
  };
  const askWhenSurgeReady = async (now: number): Promise<number> => {
    if (waitingForSurge.size === 0) return 0;
    /** Per watch: its open surge, once it has `minCount` members. */
    const ready = new Map(
      detector
        .openSurges()
        .filter((surge) => surge.count >= settings.minCount)
        .map((surge) => [surge.watchId, surge]),
    );
    const readyIds = new Set([...ready.values()].map((surge) => surge.id));
    for (const id of askedAt.keys()) if (!readyIds.has(id)) askedAt.delete(id);
    let joined = 0;
    for (const [watchId, waiting] of waitingForSurge) {
      for (const [id, { until }] of waiting) if (until <= now) waiting.delete(id);
      if (waiting.size === 0) {
        waitingForSurge.delete(watchId);
        continue;
      }
      const surge = ready.get(watchId);
      if (surge === undefined) continue;
      // Everything again when the surge has grown by half since the last time (it tells better what
      // its members say, and more of the groups have joined); otherwise those held for the flood alone,
      // those not asked yet, and those whose FLOOD_HOLD_MS since they were first asked is up.
      const before = askedAt.get(surge.id);
      const grown = before === undefined || surge.count >= before * 1.5;
      const ids = [...waiting]
        .filter(
          ([, entry]) =>
            grown ||
            !entry.forming ||
            entry.askedFirst === undefined ||
            now - entry.askedFirst >= FLOOD_HOLD_MS,
        )
        .map(([id]) => id);
      if (grown) askedAt.set(surge.id, surge.count);
      if (ids.length === 0) continue;
      const { members, notTaken, alike, forming } = await reconsider(ids);
      joined += members.size;
      // Kept at most FLOOD_HOLD_MS after they were first asked: an everyday wording that repeats
      // during the flood (its group forming too) waits that much, not its whole hold. One held only
      // for the flood whose near-duplicates have come fast since waits the same way.
      for (const id of ids) {
        const entry = waiting.get(id);
        if (entry === undefined) continue;
        if (forming.has(id)) entry.forming = true;
        if (entry.forming && entry.askedFirst === undefined) entry.askedFirst = now;
      }
      const keep = new Set(
        notTaken.filter((id) => {
          const entry = waiting.get(id);
          return entry?.forming === true && now - (entry.askedFirst ?? now) < FLOOD_HOLD_MS;
        }),
      );
      // Members now (here or meanwhile), or reviewed now: no longer waiting.
      for (const id of ids) if (!keep.has(id)) waiting.delete(id);
      if (waiting.size === 0) waitingForSurge.delete(watchId);
      await release(
        notTaken.filter((id) => !keep.has(id)),
        alike,
        now,
      );
    }
    return joined;
  };

  return {
    record,
    waitForSurge,
    async handle(payload) {
      if ('closeSurgeId' in payload) {
        const closed = detector.close(payload.closeSurgeId, deps.now().getTime());
        if (closed !== undefined) await store.surges.record(closed, []);
        return { ordinary: 0, held: 0, members: 0 };
      }
      if ('reconsiderIds' in payload) {
        // Their hold ends in a moment: the ones not taken in go now, in their order (see `release`),
        // unless they went already.
        const { members, notTaken, alike } = await reconsider(payload.reconsiderIds);
        await release(
          notTaken.filter((id) => !letGo.has(id)),
          alike,
          deps.now().getTime(),
        );
        return { ordinary: 0, held: 0, members: members.size };
      }
      const rows = await store.surges.history(new Date(0), payload.matchIds);
      const ordinary: string[] = [];
      /** Ordinary for now, but a surge looks to be forming around them: their review waits for it. */
      const held: string[] = [];
      /** Held only while the flood of their intent has no surge yet: a short wait. */
      const heldBriefly = new Set<string>();
      let members = 0;
      /**
       * Members found in this job, per surge with its latest summary: stored in one transaction per
       * surge at the end, not one per match (a burst's job holds a hundred; one each made the surge
       * queue the bottleneck, and every ordinary match waited behind it).
       */
      const pending = new Map<
        string,
        { verdict: Extract<SurgeVerdict, { kind: 'started' | 'joined' }>; ids: string[] }
      >();
      /** Surges started in this job: their first message goes out at once. */
      const started = new Set<string>();
      const flush = async () => {
        for (const [surgeId, { verdict, ids }] of pending) {
          const { joinedWithMessage } = await store.surges.record(verdict.surge, ids);
          // Members whose own review message went out before they joined: edited to say so (not deleted).
          for (const id of joinedWithMessage) {
            await jobs.enqueue('refresh', { matchId: id }, { jobId: JOB_IDS.refresh(id, surgeId) });
          }
          if (started.has(surgeId)) await deps.enqueue.surgeMessage(surgeId, { first: true });
          await message(surgeId);
        }
        pending.clear();
      };
      /** Every match that became a member in this job (also those stored by a flush before a close). */
      const joining = new Set<string>();
      /** Watch and intent of each match handed on at once; and those found flooded in this job. */
      const keyOf = new Map<string, { key: string; watchId: string }>();
      /** Handed on at once, yet resembling an open surge of their watch: reviewed in its thread, last. */
      const alike = new Set<string>();
      const flooded = new Set<string>();
      const watchOf = new Map<string, string>();
      // Matches replayed at the rebuild (or judged before a retry): their verdict is in the database.
      const again = rows.filter((r) => seen.has(r.id));
      const againSurges = new Set<string>();
      for (const row of again) {
        if (row.surgeId === null) ordinary.push(row.id);
        else {
          members++;
          againSurges.add(row.surgeId);
        }
      }
      for (const surgeId of againSurges) await message(surgeId);
      for (const row of rows) {
        if (seen.has(row.id)) continue;
        const match = toSurgeMatch(row);
        if (match === null) {
          ordinary.push(row.id);
          continue;
        }
        const verdict = detector.add(match);
        seen.set(match.id, match.at);
        if (verdict.closed.length > 0) {
          await flush();
          await recordClosed(verdict.closed);
        }
        if (verdict.kind === 'ordinary') {
          (verdict.forming ? held : ordinary).push(match.id);
          if (!verdict.forming && isAlike(match)) alike.add(match.id);
          if (verdict.forming?.flood) {
            heldBriefly.add(match.id);
            flooded.add(floodKey(match));
          }
          if (!verdict.forming) keyOf.set(match.id, { key: floodKey(match), watchId: match.watchId });
          if (verdict.forming) watchOf.set(match.id, match.watchId);
        } else {
          if (verdict.kind === 'started') {
            flooded.add(floodKey(match));
            started.add(verdict.surge.id);
          }
          members++;
          const entry = pending.get(verdict.surge.id) ?? { verdict, ids: [] };
          entry.verdict = verdict;
          entry.ids.push(match.id, ...verdict.earlier);
          pending.set(verdict.surge.id, entry);
          joining.add(match.id);
          for (const id of verdict.earlier) joining.add(id);
        }
      }
      // Stored but not a match the detector reads (suppressed since, or gone): reviewed as usual.
      const known = new Set(rows.map((r) => r.id));
      for (const id of payload.matchIds) if (!known.has(id)) ordinary.push(id);
      // Ordinary ones first (their reviews need not wait for the members to be stored), less those
      // that joined a surge later in this job.
      const reviewNow = ordinary.filter((id) => !joining.has(id));
      const now = deps.now().getTime();
      const unlike = reviewNow.filter((id) => !alike.has(id));
      if (unlike.length > 0) await deps.enqueue.notifyMany(unlike);
      if (unlike.length < reviewNow.length) {
        const like = reviewNow.filter((id) => alike.has(id));
        // Marked as held for the surge (until now: no wait) before their jobs exist, so that they are
        // reviewed in the surge's thread, not in the review channel (surgeLane in discord/notifier.ts).
        await store.surges.holdBack(like.map((id) => ({ id, until: new Date(now) })));
        // …and there after the others waiting (reviews.formGroup), as their jobs go after theirs.
        await store.surges.markLikely(like);
        await deps.enqueue.notifyMany(like, { alike: true });
      }
      for (const id of reviewNow) {
        const entry = keyOf.get(id);
        if (entry === undefined) continue;
        const recent = handedOn.get(entry.key) ?? [];
        recent.push({ id, watchId: entry.watchId, at: now });
        handedOn.set(entry.key, recent);
      }
      for (const [key, recent] of handedOn) {
        const kept = recent.filter((r) => r.at > now - FLOOD_HOLD_MS);
        if (kept.length === 0) handedOn.delete(key);
        else if (kept.length < recent.length) handedOn.set(key, kept);
      }
      // Their intent is flooded now: the ones handed on just before (the flood's first posts, before
      // it could be told from the usual) wait too, if their message has not gone out yet.
      await holdBack(flooded, now);
      await flush();
      // If the surge forms meanwhile they are its members and the notify job skips them; if not, their
      // own review message goes out then (the ones that joined are in `joinedWithMessage` otherwise).
      const waiting = held.filter((id) => !joining.has(id));
      const holdMs = settings.holdSeconds * 1000;
      // Not held (`holdSeconds` 0: no review waits for a surge): reviewed now, but after the everyday
      // matches waiting in their channel (reviews.formGroup). Before the surge exists its flood's first
      // posts share the review channel with everything else, several a second for one message a second:
      // first come first served, an everyday match there waited behind all of them.
      if (holdMs <= 0 && waiting.length > 0) await store.surges.markLikely(waiting);
      for (const [ids, ms] of [
        [waiting.filter((id) => !heldBriefly.has(id)), holdMs],
        [waiting.filter((id) => heldBriefly.has(id)), Math.min(holdMs, FLOOD_HOLD_MS)],
      ] as const) {
        if (ids.length === 0) continue;
        await deps.enqueue.notifyMany(ids, ms > 0 ? { delayMs: ms } : {});
        // Asked again a moment before their hold ends, with what the surge has learned meanwhile: one
        // that joins it now is skipped by its notify job.
        if (ms > 0)
          await jobs.enqueue(
            'surge',
            { reconsiderIds: ids },
            {
              jobId: JOB_IDS.surgeReconsider(ids[0] as string),
              delay: Math.max(0, ms - RECONSIDER_EARLY_MS),
            },
          );
      }
      const holds: { id: string; until: Date }[] = [];
      for (const id of waiting) {
        const until = now + (heldBriefly.has(id) ? Math.min(holdMs, FLOOD_HOLD_MS) : holdMs);
        if (until > now) holds.push({ id, until: new Date(until) });
        const watchId = watchOf.get(id);
        if (watchId !== undefined) waitForSurge(watchId, id, until, !heldBriefly.has(id));
      }
      // Recorded on the match too: released or not taken in, it is reviewed in the surge's thread.
      if (holds.length > 0) await store.surges.holdBack(holds);
      members += await askWhenSurgeReady(now);
      await store.surges.markJudged(payload.matchIds);
      if (seen.size > 50_000) {
        const cutoff = forgetBefore();
        for (const [id, at] of seen) if (at < cutoff) seen.delete(id);
      }
      return { ordinary: ordinary.length, held: held.length, members };
    },
    async closeQuiet(now) {
      const closed = detector.closeQuiet(now);
      await recordClosed(closed);
      return closed.length;
    },
  };
}
