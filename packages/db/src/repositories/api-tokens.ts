import { and, desc, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { NotFoundError } from '../errors.ts';
import { randomToken, tokenHash } from '../password.ts';
import { apiTokens, users } from '../schema.ts';
import type { Actor } from '../types.ts';
import { isUuid, parseActor, parseInput, writeAudit } from './shared.ts';
import type { User, UserRole } from './users.ts';

/** A personal API token as listed: never the token itself, only its first characters. */
export interface ApiToken {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  /** The token's first characters (`kk_AbCdEfG`), to recognise it. */
  readonly prefix: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/**
 * Personal API tokens (`Authorization: Bearer kk_…`): 32 random bytes after `kk_`, stored as SHA-256.
 * The token is returned once, by `create`; a token acts with its user's current role.
 */
export interface ApiTokenRepository {
  /** Audited as `token.create` (with the name and prefix). */
  create(userId: string, name: string, actor: Actor): Promise<{ token: string; record: ApiToken }>;
  /** The token's user, or null when unknown, revoked or malformed. Records when it was last used. */
  verify(token: string, now?: Date): Promise<Pick<User, 'id' | 'username' | 'role'> | null>;
  /** The user's tokens, newest first, revoked ones included. */
  list(userId: string): Promise<ApiToken[]>;
  /**
   * Revokes one of the user's tokens (`userId` null: anyone's, for admins); false when there is no
   * such live token. Audited as `token.revoke`.
   */
  revoke(id: string, userId: string | null, actor: Actor): Promise<boolean>;
  /** Revokes every live token of a user (their password changed); how many. Audited as `token.revoke_all`. */
  revokeAll(userId: string, actor: Actor): Promise<number>;
}

export const TOKEN_PREFIX = 'kk_';
const TOKEN = /^kk_[A-Za-z0-9_-]{43}$/u;
const PREFIX_LENGTH = TOKEN_PREFIX.length + 6;
const TOUCH_AFTER_MS = 60_000;

export const tokenNameSchema = z.string().trim().min(1, 'enter a name').max(100, 'at most 100 characters');

type Row = typeof apiTokens.$inferSelect;
const toApiToken = (row: Row): ApiToken => ({
  id: row.id,
  userId: row.userId,
  name: row.name,
  prefix: row.prefix,
  createdAt: row.createdAt,
  lastUsedAt: row.lastUsedAt,
  revokedAt: row.revokedAt,
});

export function createApiTokenRepository(db: Database): ApiTokenRepository {
  return {
    async create(userId, name, actorInput) {
      const actor = parseActor(actorInput);
      const tokenName = parseInput(tokenNameSchema, name, 'token name');
      if (!isUuid(userId)) throw new NotFoundError('user', String(userId));
      const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, userId));
      if (user === undefined) throw new NotFoundError('user', userId);
      const token = `${TOKEN_PREFIX}${randomToken(32)}`;
      const prefix = token.slice(0, PREFIX_LENGTH);
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(apiTokens)
          .values({ userId, name: tokenName, tokenHash: tokenHash(token), prefix })
          .returning();
        const record = toApiToken(row as Row);
        await writeAudit(tx, actor, 'token.create', record.id, { name: tokenName, prefix, userId });
        return { token, record };
      });
    },

    async verify(token, now = new Date()) {
      if (typeof token !== 'string' || !TOKEN.test(token)) return null;
      const [row] = await db
        .select({
          id: apiTokens.id,
          lastUsedAt: apiTokens.lastUsedAt,
          userId: users.id,
          username: users.username,
          role: users.role,
        })
        .from(apiTokens)
        .innerJoin(users, eq(users.id, apiTokens.userId))
        .where(and(eq(apiTokens.tokenHash, tokenHash(token)), isNull(apiTokens.revokedAt)));
      if (row === undefined) return null;
      if (row.lastUsedAt === null || now.getTime() - row.lastUsedAt.getTime() >= TOUCH_AFTER_MS) {
        await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.id));
      }
      return { id: row.userId, username: row.username, role: row.role as UserRole };
    },

    async list(userId) {
      if (!isUuid(userId)) return [];
      const rows = await db
        .select()
        .from(apiTokens)
        .where(eq(apiTokens.userId, userId))
        .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
      return rows.map(toApiToken);
    },

    async revoke(id, userId, actorInput) {
      const actor = parseActor(actorInput);
      if (!isUuid(id) || (userId !== null && !isUuid(userId))) return false;
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(apiTokens)
          .set({ revokedAt: new Date() })
          .where(
            and(
              eq(apiTokens.id, id),
              userId === null ? undefined : eq(apiTokens.userId, userId),
              isNull(apiTokens.revokedAt),
            ),
          )
          .returning();
        if (row === undefined) return false;
        await writeAudit(tx, actor, 'token.revoke', id, {
          name: row.name,
          prefix: row.prefix,
          userId: row.userId,
        });
        return true;
      });
    },

    async revokeAll(userId, actorInput) {
      const actor = parseActor(actorInput);
      if (!isUuid(userId)) return 0;
      return db.transaction(async (tx) => {
        const rows = await tx
          .update(apiTokens)
          .set({ revokedAt: new Date() })
          .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
          .returning({ id: apiTokens.id });
        if (rows.length > 0) await writeAudit(tx, actor, 'token.revoke_all', userId, { count: rows.length });
        return rows.length;
      });
    },
  };
}
