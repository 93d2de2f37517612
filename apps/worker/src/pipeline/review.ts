import type { MatchRecord } from '@kikimimi/db';
import { UnrecoverableError } from 'bullmq';
import { langOf } from '../discord/i18n.ts';
import { buildReviewMessage, type ReviewView } from '../discord/review-message.ts';
import type { PipelineDeps } from './deps.ts';

const YEAR = 365 * 24 * 3_600_000;

/** Everything shown on a review message, read fresh from the store. */
export async function reviewView(match: MatchRecord, deps: PipelineDeps): Promise<ReviewView> {
  const { store } = deps;
  const [settings, contacts, decisions, reply] = await Promise.all([
    store.discord.get(),
    store.ingest.contactHistory(
      [{ platform: match.platform, authorId: match.post.author.id, handle: match.post.author.handle }],
      new Date(deps.now().getTime() - YEAR),
    ),
    store.reviews.decisions(match.id),
    store.replies.forMatch(match.id),
  ]);
  return { match, contacts, decisions, reply, lang: langOf(settings.locale, 'ja') };
}

/**
 * Posts the review message for a match, once: the channel is claimed in the database first and the
 * message is sent with a nonce Discord enforces, so a retry after a crash finds the same message.
 */
export async function handleNotify(
  matchId: string,
  deps: PipelineDeps,
): Promise<'posted' | 'exists' | 'skipped'> {
  const { store, discord } = deps;
  if (discord === null) return 'skipped';
  const match = await store.matches.get(matchId);
  if (match === null || match.suppressed) return 'skipped';
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
  const ref = await store.reviews.claimMessage(matchId, channelId, nonceFor(matchId));
  if (ref.messageId) return 'exists';
  const message = buildReviewMessage(await reviewView(match, deps));
  const sent = await discord.send(ref.channelId, message, { nonce: nonceFor(matchId) });
  await store.reviews.setMessageId(matchId, sent.id);
  deps.metrics.reviewLatency.observe(Math.max(0, deps.now().getTime() - match.createdAt.getTime()) / 1000);
  return 'posted';
}

/** Discord nonces are at most 25 characters. */
export const nonceFor = (matchId: string) => matchId.replace(/-/gu, '').slice(0, 25);

/** Re-renders a match's review message after something changed (a decision, a reply's outcome). */
export async function refreshReviewMessage(matchId: string, deps: PipelineDeps): Promise<void> {
  const { store, discord } = deps;
  if (discord === null) return;
  const [match, ref] = await Promise.all([store.matches.get(matchId), store.reviews.getMessage(matchId)]);
  if (match === null || ref?.messageId == null) return;
  await discord.edit(ref.channelId, ref.messageId, buildReviewMessage(await reviewView(match, deps)));
}
