import { isValidHandle } from '../handles.ts';
import type { Platform } from '../post.ts';
import { type MeasureOptions, measureReply, type ReplyLength } from './length.ts';

/** The author's handle cannot be mentioned safely (see {@link replyAsPosted}). */
export class UnmentionableHandleError extends Error {
  override readonly name = 'UnmentionableHandleError';
  readonly handle: string;
  constructor(handle: string) {
    super(
      `the author's handle ${JSON.stringify(handle.slice(0, 60))} is not a valid handle: no mention is built from it`,
    );
    this.handle = handle;
  }
}

/**
 * The handle without a leading `@` (or full-width `＠`), or null when it cannot be mentioned: a
 * Mastodon account (`user` or `user@domain`, {@link isValidHandle}); anything else (spaces, a second
 * `@name`, markup) came from outside and must never become a mention in our reply.
 */
export function mentionableHandle(handle: string): string | null {
  const bare = handle.trim().replace(/^[@＠]/u, '');
  return isValidHandle('mastodon', bare) ? bare : null;
}

/**
 * The text a reply is posted with — the one place of the rule "a Mastodon reply starts with @handle":
 * Mastodon delivers a reply to its author only when it mentions them, so `@handle ` is put in front
 * unless the text already starts with that mention; on X the reply-to relation needs no mention (and
 * the text is posted as written). Throws {@link UnmentionableHandleError} for a handle that is not one.
 */
export function replyAsPosted(text: string, platform: Platform, authorHandle: string): string {
  if (platform !== 'mastodon') return text;
  const handle = mentionableHandle(authorHandle);
  if (handle === null) throw new UnmentionableHandleError(authorHandle);
  const mention = `@${handle}`;
  const start = text.trimStart();
  const next = start.charAt(mention.length);
  if (start.toLowerCase().startsWith(mention.toLowerCase()) && (next === '' || /\s/u.test(next))) return text;
  return `${mention} ${text}`;
}

/**
 * Measures a reply as it will be posted ({@link replyAsPosted}): the platform's own counting and limit.
 * A handle that cannot be mentioned measures as not ok.
 */
export function measureReplyTo(
  text: string,
  to: { readonly platform: Platform; readonly authorHandle: string },
  options: MeasureOptions = {},
): ReplyLength {
  let posted: string;
  try {
    posted = replyAsPosted(text, to.platform, to.authorHandle);
  } catch (error) {
    if (!(error instanceof UnmentionableHandleError)) throw error;
    return { ...measureReply(text, to.platform, options), ok: false };
  }
  return measureReply(posted, to.platform, options);
}
