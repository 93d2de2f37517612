import { z } from 'zod';

/*
 * What kikimimi reads of Bluesky's records and views (lexicons app.bsky.feed.post, app.bsky.feed.defs
 * postView, app.bsky.actor.defs profileViewBasic). Loose: unknown fields pass, so a newer server's
 * additions never break reading; what is required here is what a Post needs.
 */

const strongRef = z.object({ uri: z.string().min(1), cid: z.string().min(1) });

const facetFeature = z.looseObject({
  $type: z.string(),
  uri: z.string().optional(),
  did: z.string().optional(),
  tag: z.string().optional(),
});

export const facetSchema = z.looseObject({
  index: z.object({ byteStart: z.number().int().nonnegative(), byteEnd: z.number().int().nonnegative() }),
  features: z.array(facetFeature),
});
export type Facet = z.infer<typeof facetSchema>;

const embedSchema = z.looseObject({
  $type: z.string(),
  record: z
    .looseObject({ uri: z.string().optional(), record: z.looseObject({ uri: z.string() }).optional() })
    .optional(),
  external: z.looseObject({ uri: z.string() }).optional(),
});

/** An app.bsky.feed.post record. */
export const postRecordSchema = z.looseObject({
  text: z.string(),
  createdAt: z.string(),
  langs: z.array(z.string()).optional(),
  facets: z.array(facetSchema).optional(),
  reply: z.looseObject({ root: strongRef, parent: strongRef }).optional(),
  embed: embedSchema.optional(),
  labels: z.looseObject({ values: z.array(z.looseObject({ val: z.string() })) }).optional(),
  tags: z.array(z.string()).optional(),
});
export type PostRecord = z.infer<typeof postRecordSchema>;

export const authorViewSchema = z.looseObject({
  did: z.string().min(1),
  handle: z.string().min(1),
  displayName: z.string().optional(),
  followersCount: z.number().int().nonnegative().optional(),
});
export type AuthorView = z.infer<typeof authorViewSchema>;

/** app.bsky.feed.defs#postView, as searchPosts and getPosts return it. */
export const postViewSchema = z.looseObject({
  uri: z.string().min(1),
  cid: z.string().min(1),
  author: authorViewSchema,
  record: z.unknown(),
  indexedAt: z.string(),
  labels: z.array(z.looseObject({ val: z.string() })).optional(),
});
export type PostView = z.infer<typeof postViewSchema>;

/** app.bsky.notification.listNotifications#notification (the parts the conversations read). */
export const notificationSchema = z.looseObject({
  uri: z.string().min(1),
  author: authorViewSchema,
  reason: z.string(),
  reasonSubject: z.string().optional(),
  record: z.looseObject({ createdAt: z.string().optional() }),
  indexedAt: z.string(),
});
