import { and, eq, lt, ne } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { InvalidInputError, NotFoundError } from '../errors.ts';
import { randomToken, tokenHash } from '../password.ts';
import { sessions, users } from '../schema.ts';
import { isUuid, parseDate } from './shared.ts';
import type { User, UserRole } from './users.ts';

/** A new session: the token goes into the cookie and is never stored (only its SHA-256). */
export interface NewSession {
  readonly token: string;
  readonly csrfSecret: string;
  readonly expiresAt: Date;
}

/** A live session and its user. */
export interface SessionInfo {
  readonly user: Pick<User, 'id' | 'username' | 'role'>;
  /** Key of the session's CSRF token. */
  readonly csrfSecret: string;
  readonly expiresAt: Date;
  /** True when this read moved the expiry (the cookie should be sent again). */
  readonly renewed: boolean;
  /** When the session began: when its user last gave their password. */
  readonly createdAt: Date;
}

/**
 * Console sessions, sliding: each use pushes the expiry to `now + ttl` (the ttl given at creation).
 * Writes are spared for a minute after the last one.
 */
export interface SessionRepository {
  create(userId: string, ttlSeconds: number, now?: Date): Promise<NewSession>;
  /**
   * The session of `token`, or null when unknown or expired (an expired one is deleted). With
   * `maxAgeSeconds`, a session older than that (since its creation) has expired too, however active.
   */
  get(token: string, now?: Date, options?: { readonly maxAgeSeconds?: number }): Promise<SessionInfo | null>;
  /** Ends one session; false when there was none. */
  destroy(token: string): Promise<boolean>;
  /** Ends every session of a user (after a password change), except `exceptToken`'s when given. */
  destroyAll(userId: string, exceptToken?: string): Promise<number>;
  /** Deletes expired sessions. */
  purgeExpired(now?: Date): Promise<number>;
}

/** Session tokens are 32 random bytes, base64url (43 characters). */
const TOKEN = /^[A-Za-z0-9_-]{43}$/u;
const ttlSchema = z
  .number()
  .int()
  .min(1)
  .max(366 * 24 * 3600);
const RENEW_AFTER_MS = 60_000;

export function createSessionRepository(db: Database): SessionRepository {
  return {
    async create(userId, ttlSeconds, now = new Date()) {
      if (!isUuid(userId)) throw new NotFoundError('user', String(userId));
      const ttl = ttlSchema.safeParse(ttlSeconds);
      if (!ttl.success) {
        throw new InvalidInputError('session ttl', [
          { path: 'ttlSeconds', message: 'whole seconds, at most a year' },
        ]);
      }
      const at = parseDate(now, 'now');
      const token = randomToken(32);
      const csrfSecret = randomToken(32);
      const expiresAt = new Date(at.getTime() + ttl.data * 1000);
      await db.insert(sessions).values({
        id: tokenHash(token),
        userId,
        csrfSecret,
        createdAt: at,
        expiresAt,
        lastSeenAt: at,
      });
      return { token, csrfSecret, expiresAt };
    },

    async get(token, now = new Date(), options = {}) {
      if (typeof token !== 'string' || !TOKEN.test(token)) return null;
      const at = parseDate(now, 'now');
      const id = tokenHash(token);
      const [row] = await db
        .select({
          userId: users.id,
          username: users.username,
          role: users.role,
          csrfSecret: sessions.csrfSecret,
          expiresAt: sessions.expiresAt,
          lastSeenAt: sessions.lastSeenAt,
          createdAt: sessions.createdAt,
        })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(eq(sessions.id, id));
      if (row === undefined) return null;
      const tooOld =
        options.maxAgeSeconds !== undefined &&
        row.createdAt.getTime() + options.maxAgeSeconds * 1000 <= at.getTime();
      if (row.expiresAt.getTime() <= at.getTime() || tooOld) {
        await db.delete(sessions).where(eq(sessions.id, id));
        return null;
      }
      let expiresAt = row.expiresAt;
      let renewed = false;
      if (at.getTime() - row.lastSeenAt.getTime() >= RENEW_AFTER_MS) {
        // expires_at − last_seen_at is the session's ttl: keep it while sliding.
        expiresAt = new Date(at.getTime() + (row.expiresAt.getTime() - row.lastSeenAt.getTime()));
        await db.update(sessions).set({ lastSeenAt: at, expiresAt }).where(eq(sessions.id, id));
        renewed = true;
      }
      return {
        user: { id: row.userId, username: row.username, role: row.role as UserRole },
        csrfSecret: row.csrfSecret,
        expiresAt,
        renewed,
        createdAt: row.createdAt,
      };
    },

    async destroy(token) {
      if (typeof token !== 'string' || !TOKEN.test(token)) return false;
      const rows = await db
        .delete(sessions)
        .where(eq(sessions.id, tokenHash(token)))
        .returning({ id: sessions.id });
      return rows.length > 0;
    },

    async destroyAll(userId, exceptToken) {
      if (!isUuid(userId)) return 0;
      const rows = await db
        .delete(sessions)
        .where(
          and(
            eq(sessions.userId, userId),
            exceptToken === undefined ? undefined : ne(sessions.id, tokenHash(exceptToken)),
          ),
        )
        .returning({ id: sessions.id });
      return rows.length;
    },

    async purgeExpired(now = new Date()) {
      const rows = await db
        .delete(sessions)
        .where(lt(sessions.expiresAt, parseDate(now, 'now')))
        .returning({ id: sessions.id });
      return rows.length;
    },
  };
}
