import { handleProblem, isValidHandle, type Post, type PostInput, postSchema } from '@kikimimi/rules';
import type { RejectedItem } from '../types.ts';
import { mastodonHtmlToText } from './html-to-text.ts';
import { describeIssues, type MastodonStatus, mastodonStatusSchema } from './mastodon-schemas.ts';

/** A status turned into a Post, or the reason it could not be. */
export type NormalizeResult =
  | { readonly ok: true; readonly post: Post; readonly status: MastodonStatus }
  | { readonly ok: false; readonly rejected: RejectedItem };

const idOf = (raw: unknown): string | null => {
  if (typeof raw !== 'object' || raw === null) return null;
  const id = (raw as { id?: unknown }).id;
  return typeof id === 'string' && id !== '' ? id : null;
};

const isWebUrl = (value: string | null | undefined): value is string =>
  /^https?:\/\/\S+$/iu.test(value ?? '');

/** A link a person can open: `url`, else the URI when it is a web address (reblogs have no url). */
const webUrlOf = (status: MastodonStatus): string =>
  [status.url, status.uri].find(isWebUrl) ?? status.url ?? status.uri;

/** The text a person sees: the content warning (it can name the brand too), then the body. */
function textOf(status: Pick<MastodonStatus, 'content' | 'spoilerText' | 'mentions'>): string {
  const body = mastodonHtmlToText(status.content, { mentions: status.mentions });
  const warning = status.spoilerText?.trim() ?? '';
  return warning === '' ? body : body === '' ? warning : `${warning}\n\n${body}`;
}

/**
 * A Mastodon status (with masto's camelCase keys) → kikimimi's Post, validated on both sides: the
 * status against the fields we read, the result against `postSchema`. A reblog becomes a post by the
 * booster with the reblogged status's text, tags and mentions, and `repostOf` = the reblogged id.
 */
export function normalizeStatus(raw: unknown): NormalizeResult {
  const parsed = mastodonStatusSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, rejected: { id: idOf(raw), reason: `status: ${describeIssues(parsed.error)}` } };
  }
  const status = parsed.data;
  // Handles are checked here, at the boundary: a status whose author acct is not `user` or
  // `user@domain` is rejected (and logged by the worker as such), so no mention is built from it.
  const badHandle = handleProblem('mastodon', status.account.acct);
  if (badHandle !== null)
    return { ok: false, rejected: { id: status.id, reason: `author.handle: ${badHandle}` } };
  const source = status.reblog ?? status;
  const followers = status.account.followersCount;
  const input: PostInput = {
    platform: 'mastodon',
    id: status.id,
    url: webUrlOf(status),
    author: {
      id: status.account.id,
      handle: status.account.acct,
      displayName: status.account.displayName ?? '',
      // Some servers hide the count as -1 or omit it; unknown is not zero.
      followers:
        typeof followers === 'number' && Number.isInteger(followers) && followers >= 0 ? followers : null,
      protected: status.account.locked ?? false,
    },
    text: textOf(source),
    lang: source.language ?? null,
    createdAt: status.createdAt,
    repostOf: status.reblog?.id ?? null,
    inReplyTo: status.inReplyToId ?? null,
    // The Status entity has no conversation id (only the Conversation API does).
    conversationId: null,
    hashtags: (source.tags ?? []).map((tag) => tag.name),
    mentions: (source.mentions ?? [])
      .map((mention) => mention.acct)
      .filter((acct) => isValidHandle('mastodon', acct)),
  };
  const post = postSchema.safeParse(input);
  if (!post.success) {
    return { ok: false, rejected: { id: status.id, reason: `post: ${describeIssues(post.error)}` } };
  }
  return { ok: true, post: post.data, status };
}
