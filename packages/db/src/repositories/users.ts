import { asc, count, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../password.ts';
import { USER_ROLES, users } from '../schema.ts';
import type { Actor } from '../types.ts';
import {
  type Executor,
  isUuid,
  parseActor,
  parseInput,
  pgCode,
  UNIQUE_VIOLATION,
  writeAudit,
} from './shared.ts';

export type UserRole = (typeof USER_ROLES)[number];

/** A console user; the password hash never leaves the repository. */
export interface User {
  readonly id: string;
  readonly username: string;
  readonly role: UserRole;
  readonly createdAt: Date;
  readonly lastLoginAt: Date | null;
}

export interface NewUser {
  readonly username: string;
  readonly password: string;
  readonly role: UserRole;
}

/** Where a login attempt came from, for the audit log. */
export interface LoginContext {
  readonly ip?: string | undefined;
}

/** Refused because the console would be left without an admin. */
export class LastAdminError extends ConflictError {
  readonly lastAdmin = true;
  constructor() {
    super('the last admin cannot be removed or demoted');
  }
}

/**
 * Console users. Passwords are hashed with scrypt (see password.ts) and checked in constant time; an
 * unknown username costs as much as a wrong password. There is always at least one admin once the
 * first user exists.
 */
export interface UserRepository {
  count(): Promise<number>;
  /** Creates a user; a username taken in any case is a ConflictError. Audited as `user.create`. */
  create(input: NewUser, actor: Actor): Promise<User>;
  /**
   * Creates the first user as admin, or returns null when a user already exists (two setups at once
   * make one admin). The setup signs them in, so `last_login_at` is set. Audited as `user.create`.
   */
  createFirst(input: Omit<NewUser, 'role'>, actor: Actor): Promise<User | null>;
  /**
   * The user with this username (any case) and password, or null. A success sets `last_login_at` and
   * is audited as `user.login`, a failure as `user.login_failed` (never with the password).
   */
  verify(username: string, password: string, context?: LoginContext): Promise<User | null>;
  /** True when `password` is this user's (re-authentication before a change); not audited. */
  checkPassword(id: string, password: string): Promise<boolean>;
  get(id: string): Promise<User | null>;
  list(): Promise<User[]>;
  /** Audited as `user.role`; demoting the last admin is a LastAdminError. */
  setRole(id: string, role: UserRole, actor: Actor): Promise<User>;
  /** Audited as `user.password` (without the password). */
  setPassword(id: string, password: string, actor: Actor): Promise<void>;
  /** False when there was no such user; removing the last admin is a LastAdminError. Audited as `user.remove`. */
  remove(id: string, actor: Actor): Promise<boolean>;
}

/** Letters (any script), digits and `.`, `_`, `-`, `@`. */
export const usernameSchema = z
  .string()
  .trim()
  .min(1, 'enter a username')
  .max(64, 'at most 64 characters')
  .regex(/^[\p{L}\p{N}._@-]*$/u, 'letters, digits, ".", "_", "-" or "@" only');
export const MIN_PASSWORD_LENGTH = 12;
export const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024, 'at most 1024 characters');
export const roleSchema = z.enum(USER_ROLES);

const newUserSchema = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  role: roleSchema,
});
const firstUserSchema = newUserSchema.omit({ role: true });

type Row = typeof users.$inferSelect;
const publicColumns = {
  id: users.id,
  username: users.username,
  role: users.role,
  createdAt: users.createdAt,
  lastLoginAt: users.lastLoginAt,
};
const toUser = (row: Omit<Row, 'passwordHash'>): User => ({
  id: row.id,
  username: row.username,
  role: row.role as UserRole,
  createdAt: row.createdAt,
  lastLoginAt: row.lastLoginAt,
});

const byUsername = (username: string) => sql`lower(${users.username}) = lower(${username})`;
/** The console's own actor for a login attempt by someone not (yet) known. */
const anonymous: Actor = { kind: 'web', id: 'anonymous', name: '' };

export function createUserRepository(db: Database): UserRepository {
  const taken = (error: unknown, username: string) =>
    pgCode(error) === UNIQUE_VIOLATION ? new ConflictError(`the username "${username}" is taken`) : error;

  const insert = async (ex: Executor, input: NewUser, actor: Actor): Promise<User> => {
    const passwordHash = await hashPassword(input.password);
    let row: Omit<Row, 'passwordHash'> | undefined;
    try {
      [row] = await ex
        .insert(users)
        .values({ username: input.username, passwordHash, role: input.role })
        .returning(publicColumns);
    } catch (error) {
      throw taken(error, input.username);
    }
    const user = toUser(row as Row);
    await writeAudit(ex, actor, 'user.create', user.id, { username: user.username, role: user.role });
    return user;
  };

  /** Locks every admin row; the count is then stable until the transaction ends. */
  const lockAdmins = async (ex: Executor): Promise<number> => {
    const rows = await ex.select({ id: users.id }).from(users).where(eq(users.role, 'admin')).for('update');
    return rows.length;
  };

  return {
    async count() {
      const [row] = await db.select({ n: count() }).from(users);
      return row?.n ?? 0;
    },

    async create(input, actorInput) {
      const actor = parseActor(actorInput);
      const parsed = parseInput(newUserSchema, input, 'user');
      return db.transaction((tx) => insert(tx, parsed, actor));
    },

    async createFirst(input, actorInput) {
      const actor = parseActor(actorInput);
      const parsed = parseInput(firstUserSchema, input, 'user');
      return db.transaction(async (tx) => {
        await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('kikimimi.users.first'))`);
        const [row] = await tx.select({ n: count() }).from(users);
        if ((row?.n ?? 0) > 0) return null;
        const user = await insert(tx, { ...parsed, role: 'admin' }, actor);
        // The setup signs the first admin in: that is their first sign-in.
        const now = new Date();
        await tx.update(users).set({ lastLoginAt: now }).where(eq(users.id, user.id));
        return { ...user, lastLoginAt: now };
      });
    },

    async verify(username, password, context = {}) {
      const name = typeof username === 'string' ? username.trim() : '';
      const given = typeof password === 'string' ? password : '';
      const [row] =
        name === '' || name.length > 64 ? [] : await db.select().from(users).where(byUsername(name)).limit(1);
      // Unknown user: the same scrypt work against a hash nobody knows the password of.
      const ok = (await verifyPassword(given, row?.passwordHash ?? DUMMY_PASSWORD_HASH)) && row !== undefined;
      const ip = typeof context.ip === 'string' ? context.ip.slice(0, 100) : undefined;
      if (!ok || row === undefined) {
        await writeAudit(db, anonymous, 'user.login_failed', row?.id ?? null, {
          username: name.slice(0, 64),
          ...(ip ? { ip } : {}),
        });
        return null;
      }
      const now = new Date();
      await db.update(users).set({ lastLoginAt: now }).where(eq(users.id, row.id));
      await writeAudit(
        db,
        { kind: 'web', id: row.id, name: row.username },
        'user.login',
        row.id,
        ip ? { ip } : {},
      );
      return toUser({ ...row, lastLoginAt: now });
    },

    async checkPassword(id, password) {
      const [row] = isUuid(id)
        ? await db.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, id))
        : [];
      const ok = await verifyPassword(
        typeof password === 'string' ? password : '',
        row?.passwordHash ?? DUMMY_PASSWORD_HASH,
      );
      return ok && row !== undefined;
    },

    async get(id) {
      if (!isUuid(id)) return null;
      const [row] = await db.select(publicColumns).from(users).where(eq(users.id, id));
      return row ? toUser(row) : null;
    },

    async list() {
      const rows = await db
        .select(publicColumns)
        .from(users)
        .orderBy(asc(sql`lower(${users.username})`));
      return rows.map(toUser);
    },

    async setRole(id, role, actorInput) {
      const actor = parseActor(actorInput);
      const newRole = parseInput(roleSchema, role, 'role');
      if (!isUuid(id)) throw new NotFoundError('user', String(id));
      return db.transaction(async (tx) => {
        const admins = await lockAdmins(tx);
        const [current] = await tx.select(publicColumns).from(users).where(eq(users.id, id)).for('update');
        if (current === undefined) throw new NotFoundError('user', id);
        if (current.role === newRole) return toUser(current);
        if (current.role === 'admin' && admins <= 1) throw new LastAdminError();
        const [row] = await tx
          .update(users)
          .set({ role: newRole })
          .where(eq(users.id, id))
          .returning(publicColumns);
        await writeAudit(tx, actor, 'user.role', id, {
          username: current.username,
          from: current.role,
          to: newRole,
        });
        return toUser(row as Row);
      });
    },

    async setPassword(id, password, actorInput) {
      const actor = parseActor(actorInput);
      const parsed = parseInput(passwordSchema, password, 'password');
      if (!isUuid(id)) throw new NotFoundError('user', String(id));
      const passwordHash = await hashPassword(parsed);
      const [row] = await db
        .update(users)
        .set({ passwordHash })
        .where(eq(users.id, id))
        .returning(publicColumns);
      if (row === undefined) throw new NotFoundError('user', id);
      await writeAudit(db, actor, 'user.password', id, { username: row.username });
    },

    async remove(id, actorInput) {
      const actor = parseActor(actorInput);
      if (!isUuid(id)) return false;
      return db.transaction(async (tx) => {
        const admins = await lockAdmins(tx);
        const [current] = await tx.select(publicColumns).from(users).where(eq(users.id, id)).for('update');
        if (current === undefined) return false;
        if (current.role === 'admin' && admins <= 1) throw new LastAdminError();
        await tx.delete(users).where(eq(users.id, id));
        await writeAudit(tx, actor, 'user.remove', id, { username: current.username, role: current.role });
        return true;
      });
    },
  };
}
