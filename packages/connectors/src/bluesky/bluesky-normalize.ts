import { isValidHandle, type Post, postSchema } from '@kikimimi/rules';
import type { RejectedItem } from '../types.ts';
import { type AuthorView, type Facet, type PostRecord, postRecordSchema } from './bluesky-schemas.ts';

/** The parts of an at:// URI: `at://<did>/<collection>/<rkey>`. */
export function parseAtUri(uri: string): { did: string; collection: string; rkey: string } | null {
  const m = /^at:\/\/([^/]+)\/([^/]+)\/([^/?#]+)$/u.exec(uri);
  return m ? { did: m[1] as string, collection: m[2] as string, rkey: m[3] as string } : null;
}

/** The post's page on bsky.app (by handle when it has a valid one, else by DID). */
export function webUrlOf(uri: string, handle: string | null): string {
  const parts = parseAtUri(uri);
  if (parts === null) throw new RangeError(`not a post URI: ${uri}`);
  const who = handle && handle !== 'handle.invalid' ? handle : parts.did;
  return `https://bsky.app/profile/${who}/post/${parts.rkey}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The text a person meant: a link facet whose visible text is a shortened form of its target (the
 * Bluesky app shows "example.com/very/lo…") reads as the full URI, so `url:` filters see it.
 * Facet offsets are UTF-8 byte offsets; overlapping or out-of-range facets are ignored.
 */
export function expandLinks(text: string, facets: readonly Facet[]): string {
  const bytes = encoder.encode(text);
  const links = facets
    .map((f) => ({ start: f.index.byteStart, end: f.index.byteEnd, uri: f.features.find(isLink)?.uri }))
    .filter((l): l is { start: number; end: number; uri: string } => l.uri !== undefined)
    .filter((l) => l.start < l.end && l.end <= bytes.length)
    .sort((a, b) => a.start - b.start);
  let out = '';
  let last = 0;
  for (const link of links) {
    if (link.start < last) continue;
    const shown = decoder.decode(bytes.subarray(link.start, link.end));
    out +=
      decoder.decode(bytes.subarray(last, link.start)) +
      (link.uri.includes(shown.replace(/…$|\.\.\.$/u, '')) ? link.uri : shown);
    last = link.end;
  }
  return out + decoder.decode(bytes.subarray(last));
}

const isLink = (f: { $type: string }) => f.$type === 'app.bsky.richtext.facet#link';

/** The post a record quotes (app.bsky.embed.record / recordWithMedia), as its at:// URI. */
export function quotedUri(record: PostRecord): string | null {
  const embed = record.embed;
  if (embed === undefined) return null;
  if (embed.$type === 'app.bsky.embed.record') return embed.record?.uri ?? null;
  if (embed.$type === 'app.bsky.embed.recordWithMedia') return embed.record?.record?.uri ?? null;
  return null;
}

/** Self-labels of the record and labels a labeller put on the post (values such as "porn", "!hide"). */
export function labelsOf(record: PostRecord, viewLabels: ReadonlyArray<{ val: string }> = []): string[] {
  return [...new Set([...(record.labels?.values ?? []).map((l) => l.val), ...viewLabels.map((l) => l.val)])];
}

export interface NormalizeInput {
  readonly uri: string;
  readonly record: unknown;
  readonly author: Pick<AuthorView, 'did' | 'handle' | 'displayName' | 'followersCount'>;
  /** When the AppView indexed it; the fallback when the record's createdAt is unreadable. */
  readonly indexedAt?: string | undefined;
  /** Handles of mentioned DIDs we already know (facets carry DIDs; the text carries the handle). */
  readonly handles?: ReadonlyMap<string, string>;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/u;

/**
 * A Bluesky post record as a kikimimi Post: link facets expanded into the text, a quoted post's and a
 * link card's address appended on a line of their own when the text does not carry them (as X puts a
 * quoted post's URL in the text), tags from tag facets and the record's `tags`, mentions as handles,
 * the first declared language, reply refs as `inReplyTo` (parent) and `conversationId` (root).
 */
export function normalizePost(input: NormalizeInput): Post | RejectedItem {
  const parsed = postRecordSchema.safeParse(input.record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      id: input.uri,
      reason: `not a Bluesky post record (${issue?.path.join('.') || 'record'}: ${issue?.message})`,
    };
  }
  const record = parsed.data;
  if (parseAtUri(input.uri) === null) return { id: input.uri, reason: 'not an at:// post URI' };
  const facets = record.facets ?? [];
  let text = expandLinks(record.text, facets);
  const extras: string[] = [];
  const quoted = quotedUri(record);
  if (quoted !== null) {
    const parts = parseAtUri(quoted);
    if (parts) extras.push(webUrlOf(quoted, null));
  }
  if (record.embed?.$type === 'app.bsky.embed.external' && record.embed.external?.uri)
    extras.push(record.embed.external.uri);
  for (const extra of extras) if (!text.includes(extra)) text = text === '' ? extra : `${text}\n${extra}`;

  const bytes = encoder.encode(record.text);
  const mentions: string[] = [];
  const tags: string[] = [];
  for (const facet of facets) {
    for (const feature of facet.features) {
      if (feature.$type === 'app.bsky.richtext.facet#tag' && feature.tag) tags.push(feature.tag);
      if (feature.$type === 'app.bsky.richtext.facet#mention' && feature.did) {
        const known = input.handles?.get(feature.did);
        const shown = decoder
          .decode(bytes.subarray(facet.index.byteStart, facet.index.byteEnd))
          .replace(/^[@＠]/u, '');
        const handle = (known ?? shown).toLowerCase();
        if (isValidHandle('bluesky', handle)) mentions.push(handle);
      }
    }
  }
  for (const tag of record.tags ?? []) tags.push(tag);

  const createdAt = ISO.test(record.createdAt) ? record.createdAt : input.indexedAt;
  if (createdAt === undefined || !ISO.test(createdAt))
    return { id: input.uri, reason: `unreadable createdAt ${JSON.stringify(record.createdAt).slice(0, 40)}` };
  const handle = input.author.handle.toLowerCase();
  if (!isValidHandle('bluesky', handle))
    return {
      id: input.uri,
      reason: `author.handle: not a Bluesky handle: ${JSON.stringify(handle.slice(0, 60))}`,
    };
  const result = postSchema.safeParse({
    platform: 'bluesky',
    id: input.uri,
    url: webUrlOf(input.uri, input.author.handle),
    author: {
      id: input.author.did,
      handle,
      displayName: input.author.displayName ?? '',
      followers: input.author.followersCount ?? null,
      protected: false,
    },
    text,
    lang: record.langs?.[0] ?? null,
    createdAt,
    repostOf: null,
    inReplyTo: record.reply?.parent.uri ?? null,
    conversationId: record.reply?.root.uri ?? input.uri,
    hashtags: [...new Set(tags.map((t) => t.replace(/^[#＃]/u, '')))],
    mentions: [...new Set(mentions)],
  });
  if (!result.success) {
    const issue = result.error.issues[0];
    return { id: input.uri, reason: `${issue?.path.join('.')}: ${issue?.message}` };
  }
  return result.data;
}
