import { z } from 'zod';

/** Platforms kikimimi listens on. Adding one means adding it here and a connector folder. */
export const platformSchema = z.enum(['x', 'mastodon']);
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
