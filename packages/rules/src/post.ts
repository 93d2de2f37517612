import { z } from 'zod';

/** Platforms kikimimi listens on. Adding one means adding it here and a connector folder. */
export const platformSchema = z.enum(['x', 'mastodon', 'bluesky']);
export type Platform = z.infer<typeof platformSchema>;
export const PLATFORMS: readonly Platform[] = platformSchema.options;

export const authorSchema = z.object({
  id: z.string().min(1),
  handle: z.string().min(1),
  displayName: z.string().default(''),
  followers: z.number().int().nonnegative().nullable().default(null),
  protected: z.boolean().default(false),
});
export type Author = z.infer<typeof authorSchema>;

/**
 * A post as every connector hands it on: the one shape the rules, the database and the CLI see.
 * Unknown fields are tolerated (and dropped); missing required ones are an error naming the field.
 */
export const postSchema = z.object({
  platform: platformSchema,
  id: z.string().min(1),
  url: z.string().url(),
  author: authorSchema,
  /** Plain text; Mastodon HTML is converted by the connector, links kept as URLs. */
  text: z.string(),
  lang: z.string().nullable().default(null),
  createdAt: z.iso.datetime({ offset: true }),
  repostOf: z.string().nullable().default(null),
  inReplyTo: z.string().nullable().default(null),
  conversationId: z.string().nullable().default(null),
  hashtags: z.array(z.string()).default([]),
  mentions: z.array(z.string()).default([]),
});
export type Post = z.infer<typeof postSchema>;
export type PostInput = z.input<typeof postSchema>;

/**
 * A text repost, the convention from before X had native reposts and still written by hand and by
 * cross-posting tools: the text starts with "RT @name" (then ":" or a blank). Returns "@name", or undefined.
 */
const TEXT_REPOST = /^\s*RT\s*[@＠]([A-Za-z0-9_]+(?:@[A-Za-z0-9.-]+[A-Za-z0-9])?)(?=[:：\s])/iu;

/** The "@name" a text repost ("RT @name: …") reposts, if `text` is one. */
export function textRepostOf(text: string): string | undefined {
  const name = TEXT_REPOST.exec(text)?.[1];
  return name === undefined ? undefined : `@${name}`;
}
