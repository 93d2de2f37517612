import { type Platform, type Post, platformSchema } from '@kikimimi/rules';
import { and, desc, eq } from 'drizzle-orm';
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
  /** Whether the post is stored (deleted or not): streams ask before handing on an edit or a deletion. */
  isStored(platform: Platform, postId: string): Promise<boolean>;
}

const recentSchema = z.strictObject({
  limit: z.number().int().min(1).max(1000),
  platform: platformSchema.optional(),
});

const storedSchema = z.strictObject({ platform: platformSchema, postId: z.string().min(1).max(200) });

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

    async isStored(platformInput, postIdInput) {
      const { platform, postId } = parseInput(
        storedSchema,
        { platform: platformInput, postId: postIdInput },
        'stored post',
      );
      const rows = await db
        .select({ postId: posts.postId })
        .from(posts)
        .where(and(eq(posts.platform, platform), eq(posts.postId, postId)))
        .limit(1);
      return rows.length > 0;
    },
  };
}
