import { handleProblem, isValidHandle, type Post, postSchema } from '@kikimimi/rules';
import type { RejectedItem } from '../types.ts';
import {
  describeIssues,
  type XPage,
  type XTweet,
  type XUser,
  xTweetSchema,
  xUserSchema,
} from './x-schemas.ts';

// X's codes for "no language": undetermined, no linguistic content, and its q* pseudo-codes
// (media, hashtags, mentions or cashtags only). kikimimi treats an unknown language as matching.
const NO_LANGUAGE = /^(und|zxx|art|q[a-z]{2})$/u;

const T_CO = /https?:\/\/t\.co\/[A-Za-z0-9]+/gu;

/** X sends `&`, `<` and `>` HTML-escaped in post text (and only those). */
export function unescapeXText(text: string): string {
  return text.replace(/&lt;/gu, '<').replace(/&gt;/gu, '>').replace(/&amp;/gu, '&');
}

/**
 * The text a person wrote: each t.co link replaced by the address it stands for (so `url:` filters see
 * the real domain), HTML entities undone outside the links. A link without an entity stays a t.co link.
 */
export function expandXText(
  text: string,
  urls: ReadonlyArray<{ url: string; expanded_url?: string | undefined }>,
) {
  const targets = new Map(urls.map((u) => [u.url, u.expanded_url ?? u.url]));
  let out = '';
  let last = 0;
  for (const match of text.matchAll(T_CO)) {
    const index = match.index ?? 0;
    out += unescapeXText(text.slice(last, index)) + (targets.get(match[0]) ?? match[0]);
    last = index + match[0].length;
  }
  return out + unescapeXText(text.slice(last));
}

/** The post's whole text: `note_tweet` for long posts (where X cuts `text`), links expanded. */
export function fullText(tweet: XTweet): string {
  const source = tweet.note_tweet ?? tweet;
  return expandXText(source.text, source.entities?.urls ?? tweet.entities?.urls ?? []);
}

/** Users from `includes.users`, by id; malformed ones are left out (their posts are rejected by name). */
export function usersById(page: XPage): Map<string, XUser> {
  const users = new Map<string, XUser>();
  for (const raw of page.includes?.users ?? []) {
    const parsed = xUserSchema.safeParse(raw);
    if (parsed.success) users.set(parsed.data.id, parsed.data);
  }
  return users;
}

const rawId = (raw: unknown): string | null => {
  const value = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof value === 'string' ? value : null;
};

export type NormalizeResult =
  | { readonly ok: true; readonly post: Post }
  | { readonly ok: false; readonly rejected: RejectedItem };

/** One raw post from X → kikimimi's `Post`, or the reason it cannot be one. */
export function normalizeTweet(raw: unknown, users: ReadonlyMap<string, XUser>): NormalizeResult {
  const parsed = xTweetSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, rejected: { id: rawId(raw), reason: describeIssues(parsed.error) } };
  }
  const tweet = parsed.data;
  const author = users.get(tweet.author_id);
  if (author === undefined) {
    return {
      ok: false,
      rejected: { id: tweet.id, reason: `author_id: no user ${tweet.author_id} in includes.users` },
    };
  }
  // Handles are checked here, at the boundary: a post whose author is not a valid username is
  // rejected (and logged by the worker as such), so no mention is ever built from it.
  const badHandle = handleProblem('x', author.username);
  if (badHandle !== null)
    return { ok: false, rejected: { id: tweet.id, reason: `author.handle: ${badHandle}` } };
  const entities = tweet.note_tweet?.entities ?? tweet.entities;
  const post = postSchema.safeParse({
    platform: 'x',
    id: tweet.id,
    url: `https://x.com/${author.username}/status/${tweet.id}`,
    author: {
      id: author.id,
      handle: author.username,
      displayName: author.name ?? '',
      followers: author.public_metrics?.followers_count ?? null,
      protected: author.protected ?? false,
    },
    text: fullText(tweet),
    lang: tweet.lang === undefined || NO_LANGUAGE.test(tweet.lang) ? null : tweet.lang,
    createdAt: tweet.created_at,
    repostOf: tweet.referenced_tweets?.find((r) => r.type === 'retweeted')?.id ?? null,
    inReplyTo: tweet.referenced_tweets?.find((r) => r.type === 'replied_to')?.id ?? null,
    conversationId: tweet.conversation_id ?? null,
    hashtags: entities?.hashtags?.map((h) => h.tag) ?? [],
    mentions: (entities?.mentions ?? []).map((m) => m.username).filter((name) => isValidHandle('x', name)),
  });
  if (!post.success) return { ok: false, rejected: { id: tweet.id, reason: describeIssues(post.error) } };
  return { ok: true, post: post.data };
}

/** Every post of a page: the ones that normalise, and the ones rejected with their reason. */
export function normalizePage(page: XPage): { posts: Post[]; rejected: RejectedItem[] } {
  const users = usersById(page);
  const posts: Post[] = [];
  const rejected: RejectedItem[] = [];
  for (const raw of page.data ?? []) {
    const result = normalizeTweet(raw, users);
    if (result.ok) posts.push(result.post);
    else rejected.push(result.rejected);
  }
  return { posts, rejected };
}

/** Ids of a page's posts, readable or not: the cursor must move past rejected posts too. */
export function pageIds(page: XPage): string[] {
  return (page.data ?? []).map(rawId).filter((id): id is string => id !== null && /^\d{1,19}$/u.test(id));
}
