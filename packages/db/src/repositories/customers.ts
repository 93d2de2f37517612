import { type Platform, platformSchema } from '@kikimimi/rules';
import { and, asc, desc, inArray, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { contacts, identityLinks, matches, posts, replies } from '../schema.ts';
import type { MatchRecord, ReplyRecord } from '../types.ts';
import { handleKeyOf } from './ingest.ts';
import { recordColumns, toMatchRecord } from './matches.ts';
import { toReply } from './replies.ts';
import { parseInput } from './shared.ts';

/** One earlier case of a customer: the match, our replies in it, and how it was found to be theirs. */
export interface CustomerCase {
  readonly match: MatchRecord;
  readonly replies: readonly ReplyRecord[];
  /**
   * same_author: same platform and author id; linked: an identity a reviewer linked to this customer
   * (another platform's account of the same person); same_name: the handle key the cooldown compares.
   */
  readonly relation: 'same_author' | 'linked' | 'same_name';
}

/** A customer's history: what kikimimi matched of theirs before and how we answered. */
export interface CustomerRepository {
  /**
   * The customer's matches, newest first, without `excludeMatchId`: every match of the same author id
   * on the same platform, and with `acrossPlatforms` the matches we answered (contacts) of anyone with
   * the same handle key on any platform — the key the suppression cooldown compares (`handleKeyOf`).
   */
  history(
    customer: { readonly platform: Platform; readonly authorId: string; readonly handle: string },
    options: { readonly excludeMatchId?: string; readonly acrossPlatforms: boolean; readonly limit: number },
  ): Promise<CustomerCase[]>;
}

const customerSchema = z.object({
  platform: platformSchema,
  authorId: z.string().min(1).max(200),
  handle: z.string().min(1).max(400),
});
const optionsSchema = z.object({
  excludeMatchId: z.uuid().optional(),
  acrossPlatforms: z.boolean(),
  limit: z.number().int().min(1).max(100),
});

export function createCustomerRepository(db: Database): CustomerRepository {
  return {
    async history(customerInput, optionsInput) {
      const customer = parseInput(customerSchema, customerInput, 'customer');
      const options = parseInput(optionsSchema, optionsInput, 'customer history options');
      // Both branches use an index: posts_author_idx, and contacts_handle_key_idx.
      const sameAuthor = sql`SELECT ${matches.id} FROM ${posts} JOIN ${matches} ON ${matches.platform} = ${posts.platform} AND ${matches.postId} = ${posts.postId} WHERE ${posts.authorId} = ${customer.authorId} AND ${posts.platform} = ${customer.platform}`;
      const key = handleKeyOf(customer.platform, customer.authorId, customer.handle);
      // Identities linked to this one by a reviewer (identity_links: one person_id per person).
      const linkedIdentities = sql`SELECT l.platform, l.author_id FROM ${identityLinks} l WHERE l.person_id = (SELECT person_id FROM ${identityLinks} WHERE platform = ${customer.platform} AND author_id = ${customer.authorId})`;
      const linked = sql`SELECT ${matches.id} FROM ${posts} JOIN ${matches} ON ${matches.platform} = ${posts.platform} AND ${matches.postId} = ${posts.postId} WHERE (${posts.platform}, ${posts.authorId}) IN (${linkedIdentities})`;
      const ids = options.acrossPlatforms
        ? sql`${sameAuthor} UNION ${linked} UNION SELECT ${contacts.matchId} FROM ${contacts} WHERE ${contacts.handleKey} = ${key} AND ${contacts.matchId} IS NOT NULL`
        : sql`${sameAuthor} UNION ${linked}`;
      const linkedKeys = new Set(
        (
          await db
            .select({ platform: identityLinks.platform, authorId: identityLinks.authorId })
            .from(identityLinks)
            .where(sql`(${identityLinks.platform}, ${identityLinks.authorId}) IN (${linkedIdentities})`)
        ).map((r) => `${r.platform}\u0000${r.authorId}`),
      );
      const rows = await db
        .select({
          match: recordColumns,
          post: posts.post,
          authorId: posts.authorId,
        })
        .from(matches)
        .innerJoin(
          posts,
          sql`${posts.platform} = ${matches.platform} AND ${posts.postId} = ${matches.postId}`,
        )
        .where(
          and(
            sql`${matches.id} IN (${ids})`,
            options.excludeMatchId === undefined ? undefined : ne(matches.id, options.excludeMatchId),
          ),
        )
        .orderBy(desc(matches.createdAt), desc(matches.id))
        .limit(options.limit);
      if (rows.length === 0) return [];
      const replyRows = await db
        .select()
        .from(replies)
        .where(
          inArray(
            replies.matchId,
            rows.map((r) => r.match.id),
          ),
        )
        .orderBy(asc(replies.seq));
      const byMatch = new Map<string, ReplyRecord[]>();
      for (const row of replyRows) {
        const reply = toReply(row);
        byMatch.set(reply.matchId, [...(byMatch.get(reply.matchId) ?? []), reply]);
      }
      return rows.map((row) => ({
        match: toMatchRecord(row.match, row.post),
        replies: byMatch.get(row.match.id) ?? [],
        relation:
          row.match.platform === customer.platform && row.authorId === customer.authorId
            ? 'same_author'
            : linkedKeys.has(`${row.match.platform}\u0000${row.authorId}`)
              ? 'linked'
              : 'same_name',
      }));
    },
  };
}
