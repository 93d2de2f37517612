import { z } from 'zod';

/**
 * The parts of Mastodon's entities kikimimi reads, with masto's camelCase keys (masto renames every
 * key of a REST response; the streaming payload arrives in Mastodon's own snake_case and goes through
 * {@link camelizeKeys} first). Everything else is tolerated and dropped. Optional fields are nullish
 * because other Fediverse servers implementing the API leave out what Mastodon always sends.
 */

/** An Account (also what verify_credentials returns, minus its extras). */
export const mastodonAccountSchema = z.object({
  id: z.string().min(1),
  username: z.string(),
  /** `name` for a local account, `name@instance` for a remote one. */
  acct: z.string().min(1),
  displayName: z.string().nullish(),
  url: z.string().nullish(),
  locked: z.boolean().nullish(),
  followersCount: z.number().nullish(),
});
/** An Account as parsed. */
export type MastodonAccount = z.infer<typeof mastodonAccountSchema>;

const mentionSchema = z.object({
  acct: z.string().min(1),
  username: z.string().nullish(),
  url: z.string().nullish(),
});

const tagSchema = z.object({ name: z.string().min(1) });

const statusFields = {
  id: z.string().min(1),
  uri: z.string().min(1),
  url: z.string().nullish(),
  createdAt: z.string(),
  /** HTML. */
  content: z.string(),
  spoilerText: z.string().nullish(),
  account: mastodonAccountSchema,
  inReplyToId: z.string().nullish(),
  language: z.string().nullish(),
  tags: z.array(tagSchema).nullish(),
  mentions: z.array(mentionSchema).nullish(),
};

/** A status as the hashtag timeline, search, notifications and the streaming API deliver it. */
export const mastodonStatusSchema = z.object({
  ...statusFields,
  /** For a reblog, the reblogged status (whose content is the text; the reblog's own is empty). */
  reblog: z.object(statusFields).nullish(),
});
/** A Status as parsed. */
export type MastodonStatus = z.infer<typeof mastodonStatusSchema>;

/** A notification; only `mention`s with a status matter here. */
export const mastodonNotificationSchema = z.object({
  id: z.string().min(1),
  type: z.string(),
  createdAt: z.string().nullish(),
  /** Who did it (the favouriting or boosting account; the author of a mention). */
  account: z.object({ id: z.string().min(1), acct: z.string().min(1) }).nullish(),
  status: z.unknown().optional(),
});

/** `GET /api/v2/instance`, the parts a connector uses. */
export const mastodonInstanceSchema = z.object({
  domain: z.string(),
  version: z.string().nullish(),
  configuration: z.object({
    timelinesAccess: z
      .object({ hashtagFeeds: z.object({ remote: z.string().nullish() }).nullish() })
      .nullish(),
    urls: z.object({ streaming: z.string().nullish() }).nullish(),
    statuses: z
      .object({
        maxCharacters: z.number().int().positive().nullish(),
        charactersReservedPerUrl: z.number().int().nullish(),
      })
      .nullish(),
  }),
});
/** The instance document as parsed. */
export type MastodonInstance = z.infer<typeof mastodonInstanceSchema>;

/** `GET /api/v2/search`: only statuses are asked for. */
export const mastodonSearchSchema = z.object({ statuses: z.array(z.unknown()) });

/** One message of the streaming API (the `payload` of an `update` is a JSON string of a Status). */
export const mastodonStreamFrameSchema = z.object({
  stream: z.array(z.string()).optional(),
  event: z.string(),
  payload: z.unknown().optional(),
});

// What masto's serialiser does to keys (change-case's camelCase), for the keys Mastodon uses:
// lower-case words joined by underscores. Keys with `:` or a leading `_` are left alone, as masto does.
const camelize = (key: string): string =>
  key.includes(':') || key.startsWith('_')
    ? key
    : key.replace(/_([a-z0-9])/gu, (_m, c: string) => c.toUpperCase());

/** Renames every key of parsed JSON the way masto renames REST responses. */
export function camelizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelizeKeys);
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [camelize(key), camelizeKeys(inner)]),
    );
  }
  return value;
}

/** Zod issues as `path: message` pairs, so a rejected item names the field that failed. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`)
    .join('; ');
}
