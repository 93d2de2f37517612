import type { Post } from '@kikimimi/rules';
import type { SandboxPostInput } from '../world.ts';

/** A user of the X stand-in. */
export interface XSandboxUser {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly followers: number;
  readonly protected: boolean;
  readonly createdAt: string;
}

/** A t.co link in a post, with where it points (X's `entities.urls` item). */
export interface XUrlEntity {
  readonly start: number;
  readonly end: number;
  readonly url: string;
  readonly expanded_url: string;
  readonly display_url: string;
}

export interface XHashtagEntity {
  readonly start: number;
  readonly end: number;
  readonly tag: string;
}

export interface XMentionEntity {
  readonly start: number;
  readonly end: number;
  readonly username: string;
  readonly id?: string;
}

export interface XEntities {
  readonly urls: readonly XUrlEntity[];
  readonly hashtags: readonly XHashtagEntity[];
  readonly mentions: readonly XMentionEntity[];
}

export type XReferenceType = 'replied_to' | 'retweeted' | 'quoted';

/** A post as the X stand-in stores it. */
export interface XSandboxTweet {
  readonly id: string;
  /** Full text as X keeps it: links already shortened to t.co, not HTML-escaped. */
  readonly text: string;
  readonly authorId: string;
  readonly createdAt: string;
  /** BCP 47 code, or X's `und` when it could not tell. */
  readonly lang: string;
  readonly conversationId: string;
  readonly inReplyToUserId: string | null;
  readonly referencedTweets: ReadonlyArray<{ readonly type: XReferenceType; readonly id: string }>;
  readonly entities: XEntities;
}

/** What `addTweet` needs; `addPost` translates a platform-neutral `SandboxPostInput` into this. */
export interface XTweetInput {
  readonly text: string;
  readonly authorId: string;
  readonly createdAt?: Date | string | undefined;
  readonly lang?: string | undefined;
  readonly inReplyTo?: string | undefined;
  readonly repostOf?: string | undefined;
  readonly hashtags?: readonly string[] | undefined;
  readonly mentions?: readonly string[] | undefined;
}

/** A post's counts as `public_metrics` shows them. */
export interface XTweetMetrics {
  readonly replies: number;
  readonly retweets: number;
  readonly likes: number;
  readonly quotes: number;
}

/** The stand-in's posts and users, with X's id scheme, t.co links and entities. */
export interface XStore {
  readonly account: XSandboxUser;
  addPost(input: SandboxPostInput): string;
  addTweet(input: XTweetInput): XSandboxTweet;
  /** The user for an author (created on first sight, updated with what is given). */
  userFor(author: SandboxPostInput['author']): XSandboxUser;
  /** Records a like; a second like by the same user changes nothing, as on X. */
  addLike(tweetId: string, userId: string): void;
  /** Who liked the post, most recent first. */
  likingUsers(tweetId: string): readonly string[];
  metrics(tweetId: string): XTweetMetrics;
  /** A user by id or by username (without @, any case). */
  findUser(idOrUsername: string): XSandboxUser | undefined;
  user(id: string): XSandboxUser | undefined;
  tweet(id: string): XSandboxTweet | undefined;
  /** Every post, oldest first (ids increase with insertion). */
  tweets(): readonly XSandboxTweet[];
  /** The post as kikimimi's matcher sees it: t.co links expanded, entities as lists. */
  toPost(tweet: XSandboxTweet): Post;
}

// X's snowflake epoch (2010-11-04): ids carry the creation time in their upper bits.
const SNOWFLAKE_EPOCH = 1288834974657n;
export const X_LONG_POST = 280;

/** When the post with this id was created (the snowflake's upper bits), in epoch milliseconds. */
export function timeOfId(id: string): number {
  return Number((BigInt(id) >> 22n) + SNOWFLAKE_EPOCH);
}

/** The smallest id X can give a post created at `ms` (epoch milliseconds). */
export function firstIdAt(ms: number): string {
  return ((BigInt(Math.floor(ms)) - SNOWFLAKE_EPOCH) << 22n).toString();
}

/** Compares two X ids numerically (they exceed 2^53, so never as numbers). */
export function compareIds(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const URL_IN_TEXT = /https?:\/\/[^\s<>"'「」『』（）()【】、。]+/gu;
const HASHTAG_IN_TEXT = /(?:^|[^\p{L}\p{N}_&/])[#＃]([\p{L}\p{M}\p{N}_]+)/gu;
const MENTION_IN_TEXT = /(?:^|[^\p{L}\p{N}_/])[@＠]([a-z0-9_]{1,15})/giu;

const codePoints = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

function detectLang(text: string): string {
  if (/[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u.test(text)) return 'ja';
  return /\p{L}/u.test(text.replace(URL_IN_TEXT, '')) ? 'en' : 'und';
}

function displayUrl(url: string): string {
  const bare = url.replace(/^https?:\/\/(www\.)?/u, '');
  return bare.length > 26 ? `${bare.slice(0, 25)}…` : bare;
}

/** Replaces every t.co link with the address it stands for, as X's own search and the connector do. */
export function expandLinks(text: string, urls: readonly XUrlEntity[]): string {
  let out = text;
  for (const entity of urls) out = out.split(entity.url).join(entity.expanded_url);
  return out;
}

export function createXStore(accountInput: { id: string; username: string; name: string }): XStore {
  const tweets: XSandboxTweet[] = [];
  const byId = new Map<string, XSandboxTweet>();
  const users = new Map<string, XSandboxUser>();
  const byName = new Map<string, XSandboxUser>();
  const likes = new Map<string, string[]>();
  // Counted as posts are added, so public_metrics costs nothing per read.
  const counts = new Map<string, { replies: number; retweets: number; quotes: number }>();
  const countsOf = (id: string) => {
    let entry = counts.get(id);
    if (entry === undefined) {
      entry = { replies: 0, retweets: 0, quotes: 0 };
      counts.set(id, entry);
    }
    return entry;
  };
  let lastId = 0n;
  let nextUser = 1_600_000_000n;
  let nextLink = 0;

  const putUser = (user: XSandboxUser): XSandboxUser => {
    users.set(user.id, user);
    byName.set(user.username.toLowerCase(), user);
    return user;
  };

  const account = putUser({
    ...accountInput,
    followers: 1200,
    protected: false,
    createdAt: '2019-04-01T09:00:00.000Z',
  });

  const newTweetId = (at: Date): string => {
    const time = (BigInt(at.getTime()) - SNOWFLAKE_EPOCH) << 22n;
    // Posts added with an earlier date still get a larger id, as the insertion order is what tests reason about.
    lastId = time > lastId ? time : lastId + 1n;
    return lastId.toString();
  };

  const shortLink = (): string => {
    nextLink++;
    // Spread the counter over ten base-36 digits so links look like t.co's and never collide.
    const code = ((BigInt(nextLink) * 2654435761n) % 36n ** 10n).toString(36).padStart(10, '0');
    return `https://t.co/${code}`;
  };

  const userFor = (author: SandboxPostInput['author']): XSandboxUser => {
    const existing = byName.get(author.handle.replace(/^@/u, '').toLowerCase());
    const base = existing ?? {
      id: author.id ?? (nextUser++).toString(),
      username: author.handle.replace(/^@/u, ''),
      name: author.name ?? author.handle.replace(/^@/u, ''),
      followers: 0,
      protected: false,
      createdAt: '2020-01-01T00:00:00.000Z',
    };
    return putUser({
      ...base,
      name: author.name ?? base.name,
      followers: author.followers ?? base.followers,
      protected: author.protected ?? base.protected,
    });
  };

  const entitiesOf = (
    text: string,
    urls: XUrlEntity[],
    hashtags: readonly string[] | undefined,
    mentions: readonly string[] | undefined,
  ): XEntities => {
    const at = (index: number) => codePoints(text.slice(0, index));
    const found = (pattern: RegExp, sigil: string) =>
      [...text.matchAll(pattern)].map((m) => {
        const name = m[1] as string;
        const start = at((m.index ?? 0) + m[0].length - name.length - sigil.length);
        return { name, start, end: start + sigil.length + codePoints(name) };
      });
    const place = (names: readonly string[], inText: ReturnType<typeof found>) =>
      // Names given explicitly keep their place in the text when they appear in it.
      names.map(
        (name) =>
          inText.find((m) => m.name.toLowerCase() === name.toLowerCase()) ?? { name, start: 0, end: 0 },
      );
    const tagsInText = found(HASHTAG_IN_TEXT, '#');
    const mentionsInText = found(MENTION_IN_TEXT, '@');
    const tags = hashtags === undefined ? tagsInText : place(hashtags, tagsInText);
    const named = mentions === undefined ? mentionsInText : place(mentions, mentionsInText);
    return {
      urls,
      hashtags: tags.map((t) => ({ start: t.start, end: t.end, tag: t.name })),
      mentions: named.map((m) => {
        const known = byName.get(m.name.toLowerCase());
        return known === undefined
          ? { start: m.start, end: m.end, username: m.name }
          : { start: m.start, end: m.end, username: known.username, id: known.id };
      }),
    };
  };

  const addTweet = (input: XTweetInput): XSandboxTweet => {
    const createdAt = input.createdAt === undefined ? new Date() : new Date(input.createdAt);
    const id = newTweetId(createdAt);
    const target = input.inReplyTo === undefined ? undefined : byId.get(input.inReplyTo);
    const original = input.repostOf === undefined ? undefined : byId.get(input.repostOf);
    const originalAuthor = original === undefined ? undefined : users.get(original.authorId);
    // X writes a repost's text as "RT @author: …".
    const written =
      originalAuthor !== undefined && !input.text.startsWith('RT @')
        ? `RT @${originalAuthor.username}: ${input.text}`
        : input.text;

    let text = '';
    let last = 0;
    const urls: XUrlEntity[] = [];
    for (const match of written.matchAll(URL_IN_TEXT)) {
      const url = match[0].replace(/[.,!?;:]+$/u, '');
      const index = match.index ?? 0;
      text += written.slice(last, index);
      const short = shortLink();
      const start = codePoints(text);
      urls.push({
        start,
        end: start + short.length,
        url: short,
        expanded_url: url,
        display_url: displayUrl(url),
      });
      text += short;
      last = index + url.length;
    }
    text += written.slice(last);

    const referencedTweets: Array<{ type: XReferenceType; id: string }> = [];
    if (input.repostOf !== undefined) referencedTweets.push({ type: 'retweeted', id: input.repostOf });
    if (input.inReplyTo !== undefined) referencedTweets.push({ type: 'replied_to', id: input.inReplyTo });

    const tweet: XSandboxTweet = {
      id,
      text,
      authorId: input.authorId,
      createdAt: createdAt.toISOString(),
      lang: input.lang ?? detectLang(written),
      conversationId: target?.conversationId ?? input.inReplyTo ?? id,
      inReplyToUserId: target?.authorId ?? null,
      referencedTweets,
      entities: entitiesOf(text, urls, input.hashtags, input.mentions),
    };
    tweets.push(tweet);
    byId.set(id, tweet);
    for (const reference of referencedTweets) {
      const entry = countsOf(reference.id);
      if (reference.type === 'replied_to') entry.replies++;
      else if (reference.type === 'retweeted') entry.retweets++;
      else entry.quotes++;
    }
    return tweet;
  };

  return {
    account,
    addPost(input) {
      const author = userFor(input.author);
      return addTweet({
        text: input.text,
        authorId: author.id,
        createdAt: input.createdAt,
        lang: input.lang,
        inReplyTo: input.inReplyTo,
        repostOf: input.repostOf,
        hashtags: input.hashtags,
        mentions: input.mentions,
      }).id;
    },
    addTweet,
    userFor,
    addLike(tweetId, userId) {
      if (!byId.has(tweetId)) throw new Error(`x sandbox: no post ${tweetId} to like`);
      if (!users.has(userId)) throw new Error(`x sandbox: no user ${userId} to like with`);
      const list = likes.get(tweetId) ?? [];
      if (!list.includes(userId)) list.unshift(userId);
      likes.set(tweetId, list);
    },
    likingUsers: (tweetId) => likes.get(tweetId) ?? [],
    metrics(tweetId) {
      const entry = counts.get(tweetId);
      return {
        replies: entry?.replies ?? 0,
        retweets: entry?.retweets ?? 0,
        quotes: entry?.quotes ?? 0,
        likes: likes.get(tweetId)?.length ?? 0,
      };
    },
    findUser: (idOrUsername) =>
      users.get(idOrUsername) ?? byName.get(idOrUsername.replace(/^@/u, '').toLowerCase()),
    user: (id) => users.get(id),
    tweet: (id) => byId.get(id),
    tweets: () => tweets,
    toPost(tweet) {
      const author = users.get(tweet.authorId) ?? account;
      return {
        platform: 'x',
        id: tweet.id,
        url: `https://x.com/${author.username}/status/${tweet.id}`,
        author: {
          id: author.id,
          handle: author.username,
          displayName: author.name,
          followers: author.followers,
          protected: author.protected,
        },
        text: expandLinks(tweet.text, tweet.entities.urls),
        lang: tweet.lang === 'und' ? null : tweet.lang,
        createdAt: tweet.createdAt,
        repostOf: tweet.referencedTweets.find((r) => r.type === 'retweeted')?.id ?? null,
        inReplyTo: tweet.referencedTweets.find((r) => r.type === 'replied_to')?.id ?? null,
        conversationId: tweet.conversationId,
        hashtags: tweet.entities.hashtags.map((h) => h.tag),
        mentions: tweet.entities.mentions.map((m) => m.username),
      };
    },
  };
}

const escapeHtml = (text: string) =>
  text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;');

function truncate(text: string, limit: number): string {
  let out = '';
  let count = 0;
  for (const c of text) {
    if (count++ >= limit) break;
    out += c;
  }
  return out;
}

/**
 * A post in X's JSON shape with the requested `tweet.fields`. Like X, `text` is HTML-escaped (`&amp;`),
 * empty lists are left out, and a post longer than 280 characters is cut, its whole text in `note_tweet`.
 */
export function serializeTweet(
  tweet: XSandboxTweet,
  fields: ReadonlySet<string>,
  metrics: XTweetMetrics,
): Record<string, unknown> {
  const long = codePoints(tweet.text) > X_LONG_POST;
  const shown = long ? truncate(tweet.text, X_LONG_POST) : tweet.text;
  const shownLength = codePoints(shown);
  const entitiesJson = (entities: XEntities, within: number) => {
    const json: Record<string, unknown> = {};
    const keep = <T extends { end: number }>(items: readonly T[]) => items.filter((e) => e.end <= within);
    if (keep(entities.urls).length > 0) json.urls = keep(entities.urls);
    if (keep(entities.hashtags).length > 0) json.hashtags = keep(entities.hashtags);
    if (keep(entities.mentions).length > 0) json.mentions = keep(entities.mentions);
    return json;
  };
  const json: Record<string, unknown> = {
    id: tweet.id,
    text: escapeHtml(shown),
    edit_history_tweet_ids: [tweet.id],
  };
  if (fields.has('author_id')) json.author_id = tweet.authorId;
  if (fields.has('created_at')) json.created_at = tweet.createdAt;
  if (fields.has('lang')) json.lang = tweet.lang;
  if (fields.has('conversation_id')) json.conversation_id = tweet.conversationId;
  if (fields.has('in_reply_to_user_id') && tweet.inReplyToUserId !== null) {
    json.in_reply_to_user_id = tweet.inReplyToUserId;
  }
  if (fields.has('referenced_tweets') && tweet.referencedTweets.length > 0) {
    json.referenced_tweets = tweet.referencedTweets;
  }
  if (fields.has('entities')) {
    const entities = entitiesJson(tweet.entities, shownLength);
    if (Object.keys(entities).length > 0) json.entities = entities;
  }
  if (fields.has('note_tweet') && long) {
    json.note_tweet = { text: escapeHtml(tweet.text), entities: entitiesJson(tweet.entities, Infinity) };
  }
  if (fields.has('public_metrics')) {
    json.public_metrics = {
      retweet_count: metrics.retweets,
      reply_count: metrics.replies,
      like_count: metrics.likes,
      quote_count: metrics.quotes,
      bookmark_count: 0,
      impression_count: 0,
    };
  }
  if (fields.has('possibly_sensitive')) json.possibly_sensitive = false;
  if (fields.has('reply_settings')) json.reply_settings = 'everyone';
  return json;
}

/** A user in X's JSON shape with the requested `user.fields` (id, name and username always). */
export function serializeUser(
  user: XSandboxUser,
  fields: ReadonlySet<string>,
  tweetCount: number,
): Record<string, unknown> {
  const json: Record<string, unknown> = { id: user.id, name: user.name, username: user.username };
  if (fields.has('protected')) json.protected = user.protected;
  if (fields.has('created_at')) json.created_at = user.createdAt;
  if (fields.has('verified')) json.verified = false;
  if (fields.has('description')) json.description = '';
  if (fields.has('public_metrics')) {
    json.public_metrics = {
      followers_count: user.followers,
      following_count: 0,
      tweet_count: tweetCount,
      listed_count: 0,
      like_count: 0,
      media_count: 0,
    };
  }
  return json;
}
