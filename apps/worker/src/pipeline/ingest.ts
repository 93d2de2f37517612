import type { MatchRecord, PollOutcome } from '@kikimimi/db';
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
  const { store, now: clock } = deps;
  const now = clock();
  const items = await decidePosts(input.posts, now, deps, input.maxCharacters);
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
  await announce(newMatches, deps);
  return { newMatches: newMatches.length, duplicates };
}

/** Counts new matches and asks for a review message for each unsuppressed one. */
export async function announce(
  newMatches: readonly MatchRecord[],
  deps: Pick<PipelineDeps, 'metrics' | 'enqueue' | 'announceMatches'>,
): Promise<void> {
  if (newMatches.length > 0)
    deps.announceMatches?.(
      'new',
      newMatches.map((m) => m.id),
    );
  for (const match of newMatches) {
    deps.metrics.matches.inc({
      platform: match.platform,
      intent: match.decision.intent,
      suppressed: String(match.suppressed),
    });
  }
  await deps.enqueue.review(newMatches.filter((m) => !m.suppressed).map((m) => m.id));
}

/** The rules' decision for each post, with the contact history and reply counts the policy needs. */
export async function decidePosts(
  posts: readonly Post[],
  now: Date,
  deps: Pick<PipelineDeps, 'store' | 'engines'>,
  maxCharacters?: Partial<Record<Platform, number>>,
): Promise<Array<{ post: Post; decision: Decision }>> {
  const { store, engines } = deps;
  const { config, engine } = await engines.current();

  // Contact history only for the authors of matching posts, in one query for the page.
  const matching = posts.filter((post) => engine.matchWatches(post).length > 0);
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
  return posts.map((post) => ({
    post,
    decision: engine.decide(post, {
      now,
      contactHistory,
      repliesToday,
      ...(maxCharacters ? { maxCharacters } : {}),
    }),
  }));
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
