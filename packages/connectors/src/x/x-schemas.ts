import { z } from 'zod';

/**
 * The parts of X API v2 bodies kikimimi reads. Objects strip what they do not name, so the many fields X
 * adds over time pass through harmlessly; what is named is checked, and a failure names the field.
 */

const id = z.string().regex(/^\d{1,19}$/u, 'expected a numeric id');

const urlEntitySchema = z.object({
  url: z.string(),
  expanded_url: z.string().optional(),
});

const entitiesSchema = z.object({
  urls: z.array(urlEntitySchema).optional(),
  hashtags: z.array(z.object({ tag: z.string() })).optional(),
  mentions: z.array(z.object({ username: z.string() })).optional(),
});

/** A post (X still calls it a tweet) with the fields the connector asks for. */
export const xTweetSchema = z.object({
  id,
  text: z.string(),
  author_id: id,
  created_at: z.iso.datetime({ offset: true }),
  lang: z.string().optional(),
  conversation_id: id.optional(),
  in_reply_to_user_id: id.optional(),
  referenced_tweets: z.array(z.object({ type: z.string(), id })).optional(),
  entities: entitiesSchema.optional(),
  /** Posts longer than 280 characters: `text` is cut, the whole text is here. */
  note_tweet: z.object({ text: z.string(), entities: entitiesSchema.optional() }).optional(),
});
export type XTweet = z.infer<typeof xTweetSchema>;

export const xUserSchema = z.object({
  id,
  username: z.string().min(1),
  name: z.string().optional(),
  protected: z.boolean().optional(),
  public_metrics: z.object({ followers_count: z.number().int().nonnegative().optional() }).optional(),
});
export type XUser = z.infer<typeof xUserSchema>;

/**
 * A page of recent search or of a user's posts. Items stay `unknown` here: each is parsed on its own so
 * one bad post is rejected without losing the page.
 */
export const xPageSchema = z.object({
  data: z.array(z.unknown()).optional(),
  includes: z.object({ users: z.array(z.unknown()).optional() }).optional(),
  meta: z.object({
    result_count: z.number().int().nonnegative(),
    newest_id: id.optional(),
    oldest_id: id.optional(),
    next_token: z.string().min(1).optional(),
  }),
});
export type XPage = z.infer<typeof xPageSchema>;

/** `POST /2/tweets` → 201. */
export const xCreatedSchema = z.object({ data: z.object({ id, text: z.string() }) });

/** `GET /2/users/me`. */
export const xMeSchema = z.object({
  data: z.object({ id, username: z.string().min(1), name: z.string() }),
});

/** An error body: X's problem shape, or the older `errors[].message` list. */
export const xProblemSchema = z.object({
  title: z.string().optional(),
  detail: z.string().optional(),
  type: z.string().optional(),
  status: z.number().optional(),
  errors: z.array(z.object({ message: z.string().optional() })).optional(),
});
export type XProblem = z.infer<typeof xProblemSchema>;

/** `path: message` for the first few issues, so a rejection says which field was wrong. */
export function describeIssues(error: z.ZodError, limit = 3): string {
  return error.issues
    .slice(0, limit)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
}
