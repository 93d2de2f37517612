import type { MatchRecord } from '@kikimimi/db';
import { SURGE_INTENT_SHARE } from '@kikimimi/rules';
import { UnrecoverableError } from 'bullmq';
import type { EngineProvider } from '../engine-provider.ts';
import type { Metrics } from '../metrics.ts';
import type { ReviewNotifier } from '../pipeline/deps.ts';
import type { Store } from '../ports.ts';
import { caseEventMessage, clip, eventNonce, reopenedMessage, threadName } from './case-message.ts';
import { digestMessage, digestNonce } from './digest-message.ts';
import { langOf, t } from './i18n.ts';
import { type BotMessage, DiscordBusyError, type DiscordPort } from './port.ts';
import {
  buildReviewGroupMessage,
  buildReviewMessage,
  HISTORY_SHOWN,
  REVIEWS_PER_MESSAGE,
  type ReviewView,
} from './review-message.ts';
import { escapeDisplayName } from './safe-text.ts';
import { currentSurgeMessage, surgeNonce } from './surge-message.ts';

const YEAR = 365 * 24 * 3_600_000;

export interface DiscordNotifierDeps {
  readonly store: Store;
  readonly engines: EngineProvider;
  readonly discord: DiscordPort;
  readonly metrics: Metrics;
  readonly now: () => Date;
  /**
   * How a review just claimed waits for the ones coming with it: GATHER_MS unless given (tests give a
   * wait that ends on an event, not a time, so that a loaded machine cannot make them flaky).
   */
  readonly gather?: (channelId: string) => Promise<void>;
}

/** The review side of Discord: the pipeline's notifier port, and the messages the interactions show. */
export interface DiscordNotifier extends ReviewNotifier {
  /** A match's review message as it should look now, read fresh from the store. */
  message(match: MatchRecord): Promise<BotMessage>;
}

/** How long a review of a surge's kind waits for the surge's message (and so its thread) to exist. */
export const SURGE_MESSAGE_WAIT_MS = 30_000;
/** …asking again this often. */
const LANE_RETRY_MS = 500;
/**
 * How long a case event (a customer's answer, a note, an assignment…) waits for its match's review
 * message when that message is claimed but not sent yet (its channel busy): then only the console shows it.
 */
export const CASE_EVENT_WAIT_MS = 10 * 60_000;
/** How long a review just claimed in a channel in use waits for the ones coming with it (postGrouped). */
const GATHER_MS = 150;
/**
 * How long a review forming a channel's next message keeps the others of this process waiting, at
 * most (postGrouped): it sends within a fraction of that; a slower one (a stalled database or Discord)
 * no longer holds them.
 */
const FORMING_MS = 2_000;
/**
 * How long a review taken into another review's message waits for that job to send it before it
 * sends the group itself (that job died): the same group, with the same nonce, so never twice.
 */
const GROUP_SEND_WAIT_MS = 30_000;

/** Discord nonces are at most 25 characters. */
export const nonceFor = (matchId: string) => matchId.replace(/-/gu, '').slice(0, 25);

/** The nonce of the one escalation message of a match and target. */
export const escalationNonce = (matchId: string, target: string) =>
  `e${target.slice(0, 4)}${matchId.replace(/-/gu, '')}`.slice(0, 25);

/** The nonce of the one escalation message of a surge and target. */
export const surgeEscalationNonce = (surgeId: string, target: string) =>
  `x${target.slice(0, 4)}${surgeId.replace(/^surge:/u, '').replace(/-/gu, '')}`.slice(0, 25);

export function createDiscordNotifier(deps: DiscordNotifierDeps): DiscordNotifier {
  const { store, discord } = deps;

  /** Everything shown on a review message, read fresh from the store. */
  const view = async (match: MatchRecord): Promise<ReviewView> => {
    const author = match.post.author;
    // The customer's contacts on every platform a reviewer linked to this author: the cooldown's state.
    const [linked, { config }] = await Promise.all([
      store.people.identitiesOf(match.platform, author.id),
      deps.engines.current(),
    ]);
    const identities = [
      { platform: match.platform, authorId: author.id, handle: author.handle },
      ...linked
        .filter((i) => !(i.platform === match.platform && i.authorId === author.id))
        .map((i) => ({ platform: i.platform, authorId: i.authorId, handle: i.handle })),
    ];
    const acrossPlatforms = config.suppression.linkHandlesAcrossPlatforms;
    const [settings, contacts, history, decisions, replies, events, surge] = await Promise.all([
      store.discord.get(),
      store.ingest.contactHistory(identities, new Date(deps.now().getTime() - YEAR)),
      // The console's history of the case: earlier matches, answered or not, with our replies.
      store.customers.history(
        { platform: match.platform, authorId: author.id, handle: author.handle },
        { excludeMatchId: match.id, acrossPlatforms, limit: HISTORY_SHOWN + 1 },
      ),
      store.reviews.decisions(match.id),
      store.replies.listForMatch(match.id),
      store.cases.events(match.id),
      match.surgeId ? store.surges.get(match.surgeId) : null,
    ]);
    // The latest contact before this case (newest first): of these identities, and with
    // linkHandlesAcrossPlatforms of the same handle elsewhere too — as the console's case page says it.
    const last = contacts.find(
      (c) =>
        c.matchId !== match.id &&
        (acrossPlatforms || identities.some((i) => i.platform === c.platform && i.authorId === c.authorId)),
    );
    // The reply the status shows: one still under way or needing a person (a follow-up's included), else the first.
    const reply =
      replies
        .filter((r) => r.state === 'pending' || r.state === 'failed' || r.state === 'manual_pending')
        .at(-1) ??
      replies.find((r) => r.seq === 1) ??
      null;
    return {
      match,
      history,
      cooldown: {
        last:
          last === undefined ? null : { at: new Date(last.at), platform: last.platform, handle: last.handle },
        hours: config.suppression.authorCooldownHours,
        now: deps.now(),
      },
      decisions,
      reply,
      replies,
      events,
      lang: langOf(settings.locale, 'ja'),
      ...(surge ? { surge: { count: surge.count } } : {}),
    };
  };
  /** A match's review alone, in full (its own message; an escalation). */
  const single = async (match: MatchRecord) => buildReviewMessage(await view(match));
  /** The reviews of these matches in one message, or the one's full review when alone. */
  const together = async (members: readonly MatchRecord[]): Promise<BotMessage> => {
    const [only] = members;
    if (members.length === 1 && only !== undefined) return single(only);
    return buildReviewGroupMessage(await Promise.all(members.map(view)));
  };
  /** The matches of a group, read fresh (`known` as given); ones gone meanwhile are left out. */
  const membersOf = async (matchIds: readonly string[], known?: MatchRecord) =>
    (await Promise.all(matchIds.map((id) => (id === known?.id ? known : store.matches.get(id))))).filter(
      (m): m is MatchRecord => m !== null,
    );
  /** The message the match's review is in as it should look now: the whole group when it shares one. */
  const message = async (match: MatchRecord): Promise<BotMessage> => {
    const group = await store.reviews.groupOf(match.id);
    if (group === null || group.matchIds.length <= 1) return single(match);
    return together(await membersOf(group.matchIds, match));
  };

  /**
   * Per channel: the review of this process forming and sending the channel's next message, since
   * when, and when it is done (see postGrouped).
   */
  const forming = new Map<string, { since: number; done: Promise<void> }>();

  /**
   * Posts a claimed review: alone in its full message when its channel is free; when other reviews
   * wait for the channel too (Discord takes 5 messages per 5 s in each channel and thread: a flood of
   * reviews would wait minutes), up to REVIEWS_PER_MESSAGE of them go in this one message. The group
   * is formed in the database before the send and sent with the nonce of the match that formed it, so
   * any attempt after a crash — this match's or a member's — sends the same group with the same
   * nonce, and Discord returns the message it has.
   */
  const postGrouped = async (
    match: MatchRecord,
    channelId: string,
    fresh: boolean,
  ): Promise<'posted' | 'exists'> => {
    // The channel's messages are being spread over its rate limit's window (pacing.ts): this review
    // waits for the next one, its claim kept, and goes with the others that come meanwhile.
    const pace = discord.pace(channelId);
    if (pace.waitMs > 0) throw new DiscordBusyError(pace.waitMs);
    // One review at a time forms and sends a channel's next message (in this process); one that comes
    // meanwhile waits for it — its claim taken along if there is room — and then asks again. Reviews
    // due at the same moment (they waited for the same message, or came with one poll's page) each
    // formed a group of their own of the ones waiting, one was sent and the others refused: the
    // window's message went with whichever review won, often alone, while the oldest sat in the
    // refused groups, again at the next message (docs/adr/012-several-reviews-per-message.md).
    const now = deps.now().getTime();
    const other = forming.get(channelId);
    if (other !== undefined && other.since > now - FORMING_MS) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([other.done, new Promise((resolve) => (timer = setTimeout(resolve, FORMING_MS)))]);
      clearTimeout(timer);
      return postGrouped(match, channelId, fresh);
    }
    let finish = () => {};
    const mine = { since: now, done: new Promise<void>((resolve) => (finish = resolve)) };
    forming.set(channelId, mine);
    try {
      return await postGroupedNow(match, channelId, fresh, pace.inUse);
    } finally {
      if (forming.get(channelId) === mine) forming.delete(channelId);
      finish();
    }
  };
  const postGroupedNow = async (match: MatchRecord, channelId: string, fresh: boolean, inUse: boolean) => {
    // A review just claimed gives the reviews that come with it a moment to claim their places, so
    // that they go in one message instead of one each: in a channel that has had a message in its
    // current window (a poll's page brings several matches at once: those after the first wait for
    // its message, then the next of them gathers the rest), and in a surge's thread (a surge lets its
    // held matches go all at once; its first messages would carry one or two each).
    if (fresh && (inUse || (await store.surges.isSurgeMessage(channelId))))
      await (deps.gather?.(channelId) ?? new Promise((resolve) => setTimeout(resolve, GATHER_MS)));
    const group = await store.reviews.formGroup(match.id, REVIEWS_PER_MESSAGE, deps.now());
    // Its claim is gone meanwhile (a concurrent attempt of its own withdrew it): try again.
    if (group === null) throw new DiscordBusyError(LANE_RETRY_MS);
    if (group.messageId !== null) return 'exists' as const;
    // Another review's job took this one into its message and is sending it: give it the time.
    if (
      !group.formed &&
      group.nonce !== nonceFor(match.id) &&
      deps.now().getTime() - (group.groupedAt?.getTime() ?? 0) < GROUP_SEND_WAIT_MS
    )
      throw new DiscordBusyError(LANE_RETRY_MS * 2);
    const members = await membersOf(group.matchIds, match);
    let sent: { id: string };
    try {
      sent = await discord.send(group.channelId, await together(members), {
        nonce: group.nonce,
        busy: 'pace',
      });
    } catch (error) {
      // Refused before anything was posted (the channel spent, or its next message not due: another
      // review took the turn meanwhile), and formed by this very attempt: the reviews wait again,
      // each on its own, this one too — its claim stays, so that whichever job gets the channel next
      // takes it along (a claim withdrawn at each refusal would leave nothing waiting to be taken).
      if (error instanceof DiscordBusyError && group.formed)
        await store.reviews.releaseGroup(
          group,
          Object.fromEntries(group.matchIds.map((id) => [id, nonceFor(id)])),
        );
      throw error;
    }
    await store.reviews.setGroupMessageId(group, sent.id);
    for (const m of members)
      deps.metrics.reviewLatency.observe(Math.max(0, deps.now().getTime() - m.createdAt.getTime()) / 1000);
    // Something changed while the message was on its way — one of them joined a surge, its author
    // edited or deleted the post, a reviewer decided in the console — and the change's own refresh
    // found no message to edit yet (its id is stored only now): the message shows it now.
    // Each such change is on the match's row: one read each, the message built again only then.
    const now = await membersOf(group.matchIds);
    if (now.length > 0 && JSON.stringify(now) !== JSON.stringify(members))
      await discord.edit(group.channelId, sent.id, await together(now));
    return 'posted' as const;
  };

  /** The channel bound to an escalation target and the roles its rules mention (only bound ones); null: none. */
  const escalationChannel = async (target: string) => {
    const settings = await store.discord.get();
    const channelId = settings.channels[target];
    if (channelId === undefined) return null;
    const { config } = await deps.engines.current();
    const roleNames = new Set(
      config.escalation
        .filter((rule) => rule.actions.route === target)
        .flatMap((rule) => rule.actions.mentionRoles),
    );
    const roleIds = [...roleNames]
      .map((name) => settings.roles[name] ?? null)
      .filter((id): id is string => id !== null);
    return {
      channelId,
      roleIds,
      mention: roleIds.map((id) => `<@&${id}>`).join(' '),
      lang: langOf(settings.locale, 'ja'),
    };
  };

  /** Surge message id → the thread under it, in this process. */
  const surgeThreads = new Map<string, string>();
  /**
   * The thread under the message of an open surge in the match's watch whose main intents (a quarter of
   * its members or more) include the match's, or, whatever its intent, when the match was held for a
   * surge (it came in the flood, the surge did not take it in: one of the flood's other wordings, or
   * an everyday post caught in it); null: none. The review channel then carries only what it carries
   * on a normal day, at its normal pace.
   */
  const surgeLane = async (match: MatchRecord, locale: string | undefined): Promise<string | null> => {
    const watchId = match.decision.watches[0];
    if (watchId === undefined) return null;
    const open = (await store.surges.list({ status: 'open', limit: 20 })).filter(
      (s) => s.watchId === watchId,
    );
    if (open.length === 0) return null;
    const surge =
      open.find((s) => {
        const total = Object.values(s.intents).reduce((a, b) => a + b, 0);
        return (s.intents[match.decision.intent] ?? 0) >= total * SURGE_INTENT_SHARE;
      }) ?? ((await store.surges.heldUntil(match.id)) === null ? undefined : open[0]);
    if (surge === undefined) return null;
    if (surge.channelId === null || surge.messageId === null) {
      // Its message is on its way (posted at once when a surge starts): this review waits a moment for
      // the thread rather than take a place in the review channel — the flood's first posts there are
      // what makes everyday reviews late. Not for long: without a message by then, the channel.
      if (deps.now().getTime() - surge.detectedAt.getTime() < SURGE_MESSAGE_WAIT_MS)
        throw new DiscordBusyError(LANE_RETRY_MS);
      return null;
    }
    // Started once (each start after the first is a refused request, counted against Discord's limits).
    const known = surgeThreads.get(surge.messageId);
    if (known !== undefined) return known;
    // Its first reviews are the ones that waited for it and the flood's first that the surge has not
    // taken in yet: more than Discord takes at once, from the start.
    const thread = await discord.thread(
      surge.channelId,
      surge.messageId,
      t(langOf(locale, 'ja'), 'surgeThreadName'),
      { spread: true },
    );
    surgeThreads.set(surge.messageId, thread);
    return thread;
  };

  return {
    message,

    /**
     * Posts the review message for a match, once: the channel is claimed in the database first and
     * the message is sent with a nonce Discord enforces, so a retry after a crash finds the same message.
     */
    async post(matchId) {
      const match = await store.matches.get(matchId);
      // A surge's members are reviewed in the surge's one message.
      if (match === null || match.suppressed || match.surgeId) return 'skipped';
      const existing = await store.reviews.getMessage(matchId);
      if (existing?.messageId) return 'exists';
      const settings = await store.discord.get();
      const wanted = match.decision.route.reviewChannel;
      const { config } = await deps.engines.current();
      const channelId = settings.channels[wanted] ?? settings.channels[config.routing.defaultReviewChannel];
      if (channelId === undefined) {
        throw new UnrecoverableError(
          `no Discord channel is bound to the review channel "${wanted}" (nor to the default "${config.routing.defaultReviewChannel}"): set it in the console's Discord settings`,
        );
      }
      // During a surge of its watch and intent, a match the surge did not take in is reviewed in the
      // thread under the surge's message: the review channel (Discord takes 5 messages per 5 s in each
      // channel; a thread is a channel of its own) keeps its pace for everything else.
      const lane = await surgeLane(match, settings.locale);
      const ref = await store.reviews.claimMessage(matchId, lane ?? channelId, nonceFor(matchId));
      if (ref.messageId) return 'exists';
      // A busy channel (or thread) does not hold the job: the processor puts it back for the time the
      // channel needs (DiscordBusyError), and the worker slot sends to another channel meanwhile. Its
      // claim stays: the next job that gets the channel takes it along in its message.
      return postGrouped(match, ref.channelId, existing === null);
    },

    /**
     * Shows one case event in the thread under the match's review message (started on first use), and
     * with `notify` tells the review channel that the case is open again; then refreshes the review
     * message. Without a review message (Discord set up later, or the match suppressed) there is no
     * thread: the console shows the case.
     */
    async caseEvent(matchId, eventId, { notify }) {
      const [match, ref, events, settings] = await Promise.all([
        store.matches.get(matchId),
        store.reviews.getMessage(matchId),
        store.cases.events(matchId),
        store.discord.get(),
      ]);
      const event = events.find((e) => e.id === eventId);
      if (match === null || event === undefined || ref === null) return 'skipped';
      // The review message is claimed and on its way (waiting for a busy channel): the event waits for
      // it, so that it shows in its thread too — not for ever (a review never sent: the console has it),
      // and not for a match whose review will not be sent (a surge took it in, or it was suppressed).
      if (ref.messageId === null)
        return !match.surgeId &&
          !match.suppressed &&
          deps.now().getTime() - event.at.getTime() < CASE_EVENT_WAIT_MS
          ? 'waiting'
          : 'skipped';
      const lang = langOf(settings.locale, 'ja');
      const shown = caseEventMessage(event, lang);
      if (shown === null) return 'skipped';
      const [inSurgeThread, group] = await Promise.all([
        store.surges.isSurgeMessage(ref.channelId),
        store.reviews.groupOf(matchId),
      ]);
      const sharers = await membersOf(group?.matchIds ?? [matchId], match);
      // A review message in a surge's thread (surgeLane) cannot have a thread of its own (Discord has
      // no threads in threads): its case goes on in that thread. A message shared by several reviews
      // has one thread for their cases. Where cases share a thread, each event says whose case it is.
      const threadId = inSurgeThread
        ? ref.channelId
        : await discord.thread(ref.channelId, ref.messageId, threadName(sharers, lang));
      const whose =
        inSurgeThread || sharers.length > 1
          ? {
              ...shown,
              content: clip(
                `**${escapeDisplayName(`@${match.post.author.handle}`)}** — ${shown.content}`,
                2000,
              ),
            }
          : shown;
      await discord.send(threadId, whose, { nonce: eventNonce(event.id) });
      if (notify)
        await discord.send(ref.channelId, reopenedMessage(event, threadId, lang), {
          nonce: eventNonce(event.id, 'r'),
        });
      await discord.edit(ref.channelId, ref.messageId, await message(match));
      return 'posted';
    },

    /**
     * Posts a surge's one message (claimed in the database first, sent with a nonce Discord enforces),
     * or edits it to show the surge as it now is. The caller paces the edits (one job per surge and
     * SURGE_EDIT_MS window).
     */
    async surgeMessage(surgeId) {
      const surge = await store.surges.get(surgeId);
      if (surge === null) return 'skipped';
      const [settings, { config }] = await Promise.all([store.discord.get(), deps.engines.current()]);
      const lang = langOf(settings.locale, 'ja');
      const shown = await currentSurgeMessage(store, surge, lang);
      if (surge.messageId !== null && surge.channelId !== null) {
        await discord.edit(surge.channelId, surge.messageId, shown);
        return 'edited';
      }
      const wanted = config.routing.defaultReviewChannel;
      const channelId = settings.channels[wanted];
      if (channelId === undefined) {
        throw new UnrecoverableError(
          `no Discord channel is bound to the review channel "${wanted}": set it in the console's Discord settings`,
        );
      }
      const ref = await store.surges.claimMessage(surgeId, channelId, surgeNonce(surgeId));
      if (ref.messageId !== null) {
        await discord.edit(ref.channelId, ref.messageId, shown);
        return 'edited';
      }
      const sent = await discord.send(ref.channelId, shown, { nonce: surgeNonce(surgeId) });
      await store.surges.setMessageId(surgeId, sent.id);
      return 'posted';
    },

    /** Re-renders a match's review message after something changed (a decision, a reply's outcome). */
    async refresh(matchId) {
      const [match, ref] = await Promise.all([store.matches.get(matchId), store.reviews.getMessage(matchId)]);
      if (match === null || ref?.messageId == null) return;
      await discord.edit(ref.channelId, ref.messageId, await message(match));
    },

    /**
     * Posts a match into the escalation channel bound to `target`, mentioning (only) the roles the
     * escalation rules for that target name. False when the target has no channel.
     */
    async escalate(matchId, target, actorName) {
      const match = await store.matches.get(matchId);
      if (match === null) return false;
      const to = await escalationChannel(target);
      if (to === null) return false;
      const review = await single(match);
      await discord.send(
        to.channelId,
        {
          content: `${to.mention} ${t(to.lang, 'escalatedFrom')} — ${escapeDisplayName(actorName)}`.trim(),
          embeds: review.embeds,
          components: [],
          allowedRoleIds: to.roleIds,
        },
        // One escalation message per match and target, whatever the retries.
        { nonce: escalationNonce(matchId, target) },
      );
      return true;
    },

    /**
     * Posts a surge (its summary, without buttons) into the escalation channel bound to `target`,
     * mentioning the target's roles: one message, one ping. False when the target has no channel.
     */
    async escalateSurge(surgeId, target, actorName) {
      const surge = await store.surges.get(surgeId);
      if (surge === null) return false;
      const to = await escalationChannel(target);
      if (to === null) return false;
      const shown = await currentSurgeMessage(store, surge, to.lang);
      await discord.send(
        to.channelId,
        {
          content:
            `${to.mention} ${t(to.lang, 'surgeEscalatedFrom')} — ${escapeDisplayName(actorName)}`.trim(),
          embeds: shown.embeds,
          components: [],
          allowedRoleIds: to.roleIds,
        },
        // One escalation message per surge and target, whatever the retries.
        { nonce: surgeEscalationNonce(surgeId, target) },
      );
      return true;
    },

    async digest(channel, view) {
      const settings = await store.discord.get();
      const channelId = settings.channels[channel];
      if (channelId === undefined) return 'no_channel';
      await discord.send(channelId, digestMessage(view, langOf(settings.locale, 'ja')), {
        nonce: digestNonce(view.to),
      });
      return 'posted';
    },
  };
}
