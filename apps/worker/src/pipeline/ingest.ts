import type { PollOutcome } from '@kikimimi/db';
import {
  type ContactRecord,
  type Decision,
  organizationTimeZone,
  type Platform,
  type Post,
  postSchema,
} from '@kikimimi/rules';
import type { PipelineDeps } from './deps.ts';

const HOUR = 3_600_000;

export interface IngestInput {
  readonly accountId: string;
  readonly posts: readonly Post[];
  /** The source position these posts bring us to: stored in the same transaction as the posts. */
  readonly cursor?: { readonly sourceKey: string; readonly outcome: PollOutcome };
  readonly maxCharacters?: Partial<Record<Platform, number>>;
}

/**
 * Runs the rules over a page of posts and stores posts, matches and the cursor in one transaction;
 * then asks for a review message for each new unsuppressed match. Duplicates (already stored) are
 * skipped by the database, so a retried page changes nothing.
 */
export async function ingestPosts(
  input: IngestInput,
  deps: PipelineDeps,
): Promise<{ newMatches: number; duplicates: number }> {
  const { store, engines, now: clock, metrics, enqueue } = deps;
  const now = clock();
  const { config, engine } = await engines.current();

  // Contact history only for the authors of matching posts, in one query for the page.
  const matching = input.posts.filter((post) => engine.matchWatches(post).length > 0);
  let contactHistory: ContactRecord[] = [];
  const cooldown = config.suppression.authorCooldownHours;
  if (matching.length > 0 && cooldown > 0) {
    const authors = matching.map((p) => ({
      platform: p.platform,
      authorId: p.author.id,
      handle: p.author.handle,
    }));
    contactHistory = await store.ingest.contactHistory(authors, new Date(now.getTime() - cooldown * HOUR));
  }
  const repliesToday: Partial<Record<Platform, number>> = {};
  for (const platform of new Set(matching.map((p) => p.platform))) {
    repliesToday[platform] = await store.ingest.repliesToday(platform, now, organizationTimeZone(config));
  }

  const items: Array<{ post: Post; decision: Decision }> = input.posts.map((post) => ({
    post,
    decision: engine.decide(post, {
      now,
      contactHistory,
      repliesToday,
      ...(input.maxCharacters ? { maxCharacters: input.maxCharacters } : {}),
    }),
  }));
  const { newMatches, duplicates } = await store.ingest.storeBatch(
    input.accountId,
    items,
    input.cursor
      ? {
          cursor: {
            accountId: input.accountId,
            sourceKey: input.cursor.sourceKey,
            outcome: input.cursor.outcome,
          },
        }
      : undefined,
    now,
  );
  for (const match of newMatches) {
    metrics.matches.inc({
      platform: match.platform,
      intent: match.decision.intent,
      suppressed: String(match.suppressed),
    });
  }
  await enqueue.notifyMany(newMatches.filter((m) => !m.suppressed).map((m) => m.id));
  return { newMatches: newMatches.length, duplicates };
}

/** Posts from a job payload (streams): each parsed; a bad one is dropped with a log line, never the batch. */
export function parsePosts(raw: readonly unknown[], deps: Pick<PipelineDeps, 'log'>): Post[] {
  const posts: Post[] = [];
  raw.forEach((value, index) => {
    const parsed = postSchema.safeParse(value);
    if (parsed.success) posts.push(parsed.data);
    else
      deps.log.warn(
        { index, issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
        'dropped a malformed post',
      );
  });
  return posts;
}
