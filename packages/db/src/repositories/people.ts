import type { Platform } from '@kikimimi/rules';
import { platformSchema } from '@kikimimi/rules';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { NotFoundError } from '../errors.ts';
import { authors, identityLinks } from '../schema.ts';
import type { Actor } from '../types.ts';
import { parseActor, parseDate, parseInput, writeAudit } from './shared.ts';

/** An author on one platform, as the authors table knows them. */
export interface Identity {
  readonly platform: Platform;
  readonly authorId: string;
  readonly handle: string;
  readonly displayName: string;
}

/** People across platforms: the identities a reviewer linked as one customer. */
export interface PeopleRepository {
  /** The author and every identity linked to them (the author first); just the author when unlinked. */
  identitiesOf(platform: Platform, authorId: string): Promise<Identity[]>;
  /** An author seen on `platform` by handle (`@name`, `name`, `name@instance`), or null. */
  findByHandle(platform: Platform, handle: string): Promise<Identity | null>;
  /**
   * Links two identities as one person (merging the people they belonged to), audited `person.link`.
   * NotFoundError when either was never seen.
   */
  link(
    a: { platform: Platform; authorId: string },
    b: { platform: Platform; authorId: string },
    actor: Actor,
    now: Date,
  ): Promise<Identity[]>;
  /** Takes an identity out of its person, audited `person.unlink`. */
  unlink(identity: { platform: Platform; authorId: string }, actor: Actor, now: Date): Promise<void>;
}

const keySchema = z.strictObject({ platform: platformSchema, authorId: z.string().min(1).max(200) });

export function createPeopleRepository(db: Database): PeopleRepository {
  const known = async (platform: Platform, authorId: string) => {
    const [row] = await db
      .select()
      .from(authors)
      .where(and(eq(authors.platform, platform), eq(authors.authorId, authorId)));
    return row === undefined
      ? null
      : {
          platform: row.platform as Platform,
          authorId: row.authorId,
          handle: row.handle,
          displayName: row.displayName,
        };
  };

  const identitiesOf = async (platform: Platform, authorId: string): Promise<Identity[]> => {
    const self = await known(platform, authorId);
    const [link] = await db
      .select({ personId: identityLinks.personId })
      .from(identityLinks)
      .where(and(eq(identityLinks.platform, platform), eq(identityLinks.authorId, authorId)));
    if (link === undefined) return self === null ? [] : [self];
    const rows = await db
      .select({
        platform: authors.platform,
        authorId: authors.authorId,
        handle: authors.handle,
        displayName: authors.displayName,
      })
      .from(identityLinks)
      .innerJoin(
        authors,
        and(eq(authors.platform, identityLinks.platform), eq(authors.authorId, identityLinks.authorId)),
      )
      .where(eq(identityLinks.personId, link.personId));
    const others = rows
      .filter((r) => !(r.platform === platform && r.authorId === authorId))
      .map((r) => ({ ...r, platform: r.platform as Platform }));
    return self === null ? others : [self, ...others];
  };

  return {
    identitiesOf,

    async findByHandle(platform, handleInput) {
      const handle = String(handleInput ?? '')
        .trim()
        .replace(/^[@＠]/u, '');
      if (handle === '' || handle.length > 400) return null;
      const [row] = await db
        .select()
        .from(authors)
        .where(and(eq(authors.platform, platform), sql`lower(${authors.handle}) = lower(${handle})`))
        .limit(1);
      return row === undefined
        ? null
        : {
            platform: row.platform as Platform,
            authorId: row.authorId,
            handle: row.handle,
            displayName: row.displayName,
          };
    },

    async link(aInput, bInput, actorInput, nowInput) {
      const a = parseInput(keySchema, aInput, 'identity');
      const b = parseInput(keySchema, bInput, 'identity');
      const actor = parseActor(actorInput);
      const now = parseDate(nowInput, 'link time');
      for (const id of [a, b]) {
        if ((await known(id.platform, id.authorId)) === null)
          throw new NotFoundError('author', `${id.platform}:${id.authorId}`);
      }
      await db.transaction(async (tx) => {
        // Both identities' rows locked (or absent) in a fixed order, so two links at once cannot cross.
        const keys = [a, b].sort((x, y) =>
          `${x.platform}:${x.authorId}`.localeCompare(`${y.platform}:${y.authorId}`),
        );
        const people: string[] = [];
        for (const key of keys) {
          const [row] = await tx
            .select({ personId: identityLinks.personId })
            .from(identityLinks)
            .where(and(eq(identityLinks.platform, key.platform), eq(identityLinks.authorId, key.authorId)))
            .for('update');
          if (row !== undefined) people.push(row.personId);
        }
        const person = people[0] ?? crypto.randomUUID();
        // Merge: everyone of the other people joins this one.
        const others = people.filter((p) => p !== person);
        if (others.length > 0) {
          await tx
            .update(identityLinks)
            .set({ personId: person })
            .where(inArray(identityLinks.personId, others));
        }
        for (const key of keys) {
          await tx
            .insert(identityLinks)
            .values({ ...key, personId: person, linkedBy: actor, at: now })
            .onConflictDoUpdate({
              target: [identityLinks.platform, identityLinks.authorId],
              set: { personId: person },
            });
        }
        await writeAudit(
          tx,
          actor,
          'person.link',
          `${a.platform}:${a.authorId}`,
          { with: `${b.platform}:${b.authorId}` },
          now,
        );
      });
      return identitiesOf(a.platform, a.authorId);
    },

    async unlink(input, actorInput, nowInput) {
      const key = parseInput(keySchema, input, 'identity');
      const actor = parseActor(actorInput);
      const now = parseDate(nowInput, 'unlink time');
      await db.transaction(async (tx) => {
        await tx
          .delete(identityLinks)
          .where(and(eq(identityLinks.platform, key.platform), eq(identityLinks.authorId, key.authorId)));
        await writeAudit(tx, actor, 'person.unlink', `${key.platform}:${key.authorId}`, {}, now);
      });
    },
  };
}
