import { type Platform, type Post, platformSchema } from '@kikimimi/rules';
import { desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { posts } from '../schema.ts';
import { parseInput } from './shared.ts';

/** Options of {@link PostRepository.recent}. */
export interface RecentPostsOptions {
  /** 1–1000. */
  readonly limit: number;
  /** Only posts from this platform. */
  readonly platform?: Platform | undefined;
}

/** Stored posts, matched or not: what the console dry-runs a watch over before it is saved. */
export interface PostRepository {
  /** The newest stored posts (by the time they were posted), newest first, as connectors normalised them. */
  recent(options: RecentPostsOptions): Promise<Post[]>;
}

const recentSchema = z.strictObject({
  limit: z.number().int().min(1).max(1000),
  platform: platformSchema.optional(),
});

export function createPostRepository(db: Database): PostRepository {
  return {
    async recent(options) {
      const { limit, platform } = parseInput(recentSchema, options, 'recent posts options');
      const rows = await db
        .select({ post: posts.post })
        .from(posts)
        .where(platform === undefined ? undefined : eq(posts.platform, platform))
        .orderBy(desc(posts.createdAt), desc(posts.postId))
        .limit(limit);
      return rows.map((row) => row.post);
    },
  };
}
