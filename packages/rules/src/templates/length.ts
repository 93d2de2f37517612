/// <reference path="./twitter-text.d.ts" />
import twitterText from 'twitter-text';
import type { Platform } from '../post.ts';

/**
 * Reply length counted the way each platform counts it, so the reviewer's counter and the send button
 * agree with what the platform will accept.
 *
 * X: twitter-text's weighted length (most CJK characters and emoji weigh 2, every URL 23, limit 280).
 * Mastodon: what `StatusLengthValidator` does — grapheme clusters, every URL with a protocol counts 23
 * whatever its real length, and a mention `@user@domain` counts as `@user` only. Mastodon finds URLs
 * with (a patched) twitter-text and mentions with `Account::MENTION_RE`; we use twitter-text's URL
 * extractor and a transcription of the regex, which agree with it on ordinary text.
 * Bluesky: grapheme clusters of the record's `text` as posted, URLs at their full length (the
 * lexicon's `maxGraphemes: 300` on app.bsky.feed.post; the PDS refuses longer text).
 */

/** X's limit for a post, in weighted characters. */
export const X_MAX_WEIGHTED_LENGTH = 280;
/** What a URL of any length counts for on X (its t.co form). */
export const X_URL_LENGTH = 23;
/** Mastodon's stock character limit; instances may raise it (see /api/v2/instance). */
export const MASTODON_DEFAULT_MAX_CHARACTERS = 500;
/** What a URL of any length counts for on Mastodon (`characters_reserved_per_url`). */
export const MASTODON_URL_LENGTH = 23;

/** Bluesky's limit for a post (`app.bsky.feed.post` text, maxGraphemes). */
export const BLUESKY_MAX_GRAPHEMES = 300;

/** How long a reply is, against which limit. */
export interface ReplyLength {
  /** Length as the platform counts it. */
  length: number;
  limit: number;
  /** `limit - length`; negative when over. */
  remaining: number;
  /** Within the limit and not blank (neither platform accepts an empty post). */
  ok: boolean;
}

/** Options of {@link measureReply}. */
export interface MeasureOptions {
  /** Mastodon only: the instance's limit (`configuration.statuses.max_characters`); default 500. */
  maxCharacters?: number | undefined;
}

// Ruby's [[:word:]] on a UTF-8 string: letters, marks, decimal digits, connector punctuation.
const WORD = String.raw`\p{L}\p{M}\p{Nd}\p{Pc}`;

/**
 * Mastodon's `Account::MENTION_RE` (4.x): `@user` or `@user@domain`, not after `=`, `/` or a word
 * character (so the `/@user` of a profile URL is not a mention). Group 1 is `user` or `user@domain`.
 */
const MASTODON_MENTION = new RegExp(
  `(?<![=/${WORD}])@((?:[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[${WORD}]+(?:[.-]+[${WORD}]+)*)?)`,
  'giu',
);

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

interface Entity {
  start: number;
  end: number;
  replacement: string;
}

/** Number of grapheme clusters (user-perceived characters) in `text`. */
export function countGraphemes(text: string): number {
  let count = 0;
  for (const _ of graphemes.segment(text)) count += 1;
  return count;
}

/** Mastodon's countable length of a status text (without content warning). */
export function countMastodonLength(text: string): number {
  // Mastodon counts a blank text as nothing at all (`return '' if str.blank?`).
  if (/^\s*$/u.test(text)) return 0;
  const entities: Entity[] = [];
  for (const url of twitterText.extractUrlsWithIndices(text, { extractUrlsWithoutProtocol: false })) {
    entities.push({
      start: url.indices[0],
      end: url.indices[1],
      replacement: 'x'.repeat(MASTODON_URL_LENGTH),
    });
  }
  for (const match of text.matchAll(MASTODON_MENTION)) {
    const account = match[1] ?? '';
    const end = match.index + 1 + account.length;
    // Mastodon, like twitter-text, drops a mention followed by another at sign, an accented letter or "://".
    if (twitterText.regexen.endMentionMatch.test(text.slice(end))) continue;
    entities.push({ start: match.index, end, replacement: `@${account.split('@')[0] ?? ''}` });
  }
  let countable = '';
  let last = 0;
  for (const entity of withoutOverlaps(entities)) {
    countable += text.slice(last, entity.start) + entity.replacement;
    last = entity.end;
  }
  return countGraphemes(countable + text.slice(last));
}

/** Entities sorted by position, each dropped if it overlaps the one kept before it (twitter-text's rule). */
function withoutOverlaps(entities: Entity[]): Entity[] {
  const sorted = entities.toSorted((a, b) => a.start - b.start);
  const kept: Entity[] = [];
  for (const entity of sorted) {
    const previous = kept.at(-1);
    if (previous === undefined || entity.start >= previous.end) kept.push(entity);
  }
  return kept;
}

/**
 * Measures `text` as it will be posted (for Mastodon including the `@handle ` the connector prepends;
 * on X the reply-to mention is not part of the text and is not counted).
 */
export function measureReply(text: string, platform: Platform, options: MeasureOptions = {}): ReplyLength {
  const blank = text.trim() === '';
  if (platform === 'x') {
    const parsed = twitterText.parseTweet(text);
    const length = parsed.weightedLength;
    return {
      length,
      limit: X_MAX_WEIGHTED_LENGTH,
      remaining: X_MAX_WEIGHTED_LENGTH - length,
      // parseTweet's `valid` also rules out characters X refuses (U+FFFE, U+FEFF, U+FFFF).
      ok: parsed.valid && !blank,
    };
  }
  if (platform === 'bluesky') {
    const length = countGraphemes(text);
    return {
      length,
      limit: BLUESKY_MAX_GRAPHEMES,
      remaining: BLUESKY_MAX_GRAPHEMES - length,
      ok: length <= BLUESKY_MAX_GRAPHEMES && !blank,
    };
  }
  const limit = options.maxCharacters ?? MASTODON_DEFAULT_MAX_CHARACTERS;
  if (!Number.isInteger(limit) || limit <= 0) {
    throw new RangeError(`maxCharacters must be a positive integer, got ${limit}`);
  }
  const length = countMastodonLength(text);
  return { length, limit, remaining: limit - length, ok: length <= limit && !blank };
}
