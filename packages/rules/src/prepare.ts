import { normalizeTag, normalizeText, splitUrls } from './normalize.ts';
import type { Post } from './post.ts';

/**
 * A post with everything the rules look at computed once: the normalised prose (URLs removed), the
 * URLs, and the hashtags and mentions from both the platform's lists and the text.
 */
export interface PreparedPost {
  readonly post: Post;
  readonly prose: string;
  readonly urls: readonly string[];
  readonly hashtags: ReadonlySet<string>;
  /** Normalised mentions, each as written (`name` or `name@instance`) and by its local part. */
  readonly mentions: ReadonlySet<string>;
  /** The author's handle, normalised, and its local part (before `@instance`). */
  readonly authorHandle: string;
  readonly authorLocal: string;
}

const HASHTAG_IN_TEXT = /(?:^|[^\p{L}\p{N}_&/])[#＃]([\p{L}\p{M}\p{N}_]+)/gu;
const MENTION_IN_TEXT = /(?:^|[^\p{L}\p{N}_/])[@＠]([a-z0-9_]+(?:@[a-z0-9.-]+[a-z0-9])?)/giu;

/** Local part of a handle: `name@instance` → `name`. */
export function localPart(handle: string): string {
  const at = handle.indexOf('@');
  return at === -1 ? handle : handle.slice(0, at);
}

export function normalizeHandle(handle: string): string {
  return handle.replace(/^[@＠]+/u, '').toLowerCase();
}

export function preparePost(post: Post): PreparedPost {
  const { prose, urls } = splitUrls(post.text);
  const hashtags = new Set<string>();
  for (const tag of post.hashtags) hashtags.add(normalizeTag(tag));
  if (prose.includes('#') || prose.includes('＃')) {
    for (const m of prose.matchAll(HASHTAG_IN_TEXT)) hashtags.add(normalizeTag(m[1] as string));
  }
  const mentions = new Set<string>();
  const addMention = (name: string) => {
    const handle = normalizeHandle(name);
    mentions.add(handle);
    mentions.add(localPart(handle));
  };
  for (const mention of post.mentions) addMention(mention);
  if (prose.includes('@') || prose.includes('＠')) {
    for (const m of prose.matchAll(MENTION_IN_TEXT)) addMention(m[1] as string);
  }
  const authorHandle = normalizeHandle(post.author.handle);
  return {
    post,
    prose: normalizeText(prose),
    urls,
    hashtags,
    mentions,
    authorHandle,
    authorLocal: localPart(authorHandle),
  };
}
