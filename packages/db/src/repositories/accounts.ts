import { randomUUID } from 'node:crypto';
import { type Platform, platformSchema } from '@kikimimi/rules';
import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { decryptSecret, type EncryptionKey, encryptSecret } from '../crypto.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { platformAccounts } from '../schema.ts';
import type { Actor, PlatformAccount, PlatformAccountInput } from '../types.ts';
import {
  isUuid,
  parseActor,
  parseInput,
  pgCode,
  SYSTEM_ACTOR,
  UNIQUE_VIOLATION,
  writeAudit,
} from './shared.ts';

/** Changes to an account; credentials are replaced only when given. The platform cannot change. */
export type PlatformAccountPatch = Partial<Omit<PlatformAccountInput, 'platform'>>;

/**
 * Connected platform accounts. Credentials are encrypted before they reach the database and come back
 * only through {@link AccountRepository.credentials}; every other return value and error leaves them out.
 */
export interface AccountRepository {
  list(): Promise<PlatformAccount[]>;
  get(id: string): Promise<PlatformAccount | null>;
  create(input: PlatformAccountInput, actor: Actor): Promise<PlatformAccount>;
  /** New credentials or a new base URL clear the recorded identity until the next check. */
  update(id: string, patch: PlatformAccountPatch, actor: Actor): Promise<PlatformAccount>;
  /** False when there was no such account. */
  remove(id: string, actor: Actor): Promise<boolean>;
  /** The decrypted credentials, for the connector only. */
  credentials(id: string): Promise<unknown>;
  /** What the platform said the account is, after a successful credentials check. */
  recordIdentity(id: string, identity: { handle: string; accountId: string }): Promise<PlatformAccount>;
}

const httpUrl = z
  .url({ protocol: /^https?$/u, error: 'an http(s) URL' })
  .max(2000)
  .nullable();
const credentialsSchema = z
  .json({ error: 'credentials must be JSON data' })
  .refine((value) => value !== null, {
    error: 'credentials are required',
  });

const fields = {
  label: z.string().trim().min(1).max(100),
  baseUrl: httpUrl,
  streamingUrl: httpUrl,
  credentials: credentialsSchema,
  enabled: z.boolean(),
  demo: z.boolean(),
  pollIntervalSeconds: z.number().int().min(1).max(86_400),
  streamEnabled: z.boolean(),
};

const createSchema = z.strictObject({
  platform: platformSchema,
  ...fields,
  baseUrl: fields.baseUrl.default(null),
  streamingUrl: fields.streamingUrl.default(null),
  enabled: fields.enabled.default(true),
  demo: fields.demo.default(false),
  pollIntervalSeconds: fields.pollIntervalSeconds.default(60),
  streamEnabled: fields.streamEnabled.default(false),
});

const patchSchema = z.strictObject({
  label: fields.label.optional(),
  baseUrl: fields.baseUrl.optional(),
  streamingUrl: fields.streamingUrl.optional(),
  credentials: fields.credentials.optional(),
  enabled: fields.enabled.optional(),
  demo: fields.demo.optional(),
  pollIntervalSeconds: fields.pollIntervalSeconds.optional(),
  streamEnabled: fields.streamEnabled.optional(),
});

const identitySchema = z.strictObject({
  handle: z.string().trim().min(1).max(200),
  accountId: z.string().trim().min(1).max(200),
});

type Row = typeof platformAccounts.$inferSelect;

function toAccount(row: Row): PlatformAccount {
  return {
    id: row.id,
    platform: row.platform as Platform,
    label: row.label,
    baseUrl: row.baseUrl,
    streamingUrl: row.streamingUrl,
    handle: row.handle,
    accountId: row.accountId,
    enabled: row.enabled,
    demo: row.demo,
    pollIntervalSeconds: row.pollIntervalSeconds,
    streamEnabled: row.streamEnabled,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** The columns other than the ciphertext: what every read except `credentials` selects. */
const publicColumns = {
  id: platformAccounts.id,
  platform: platformAccounts.platform,
  label: platformAccounts.label,
  baseUrl: platformAccounts.baseUrl,
  streamingUrl: platformAccounts.streamingUrl,
  handle: platformAccounts.handle,
  accountId: platformAccounts.accountId,
  enabled: platformAccounts.enabled,
  demo: platformAccounts.demo,
  pollIntervalSeconds: platformAccounts.pollIntervalSeconds,
  streamEnabled: platformAccounts.streamEnabled,
  createdAt: platformAccounts.createdAt,
  updatedAt: platformAccounts.updatedAt,
};

/** The ciphertext is bound to its row (the account id is authenticated data): it cannot be moved. */
const context = (id: string) => `platform_accounts:${id}`;

export function createAccountRepository(db: Database, key: EncryptionKey): AccountRepository {
  const labelTaken = (error: unknown, platform: string, label: string) =>
    pgCode(error) === UNIQUE_VIOLATION
      ? new ConflictError(`a ${platform} account labelled ${JSON.stringify(label)} already exists`)
      : error;

  const mustGet = async (id: string): Promise<PlatformAccount> => {
    const account = isUuid(id)
      ? (await db.select(publicColumns).from(platformAccounts).where(eq(platformAccounts.id, id)))[0]
      : undefined;
    if (account === undefined) throw new NotFoundError('platform account', String(id));
    return toAccount(account as Row);
  };

  return {
    async list() {
      const rows = await db
        .select(publicColumns)
        .from(platformAccounts)
        .orderBy(asc(platformAccounts.platform), asc(platformAccounts.label));
      return rows.map((row) => toAccount(row as Row));
    },

    async get(id) {
      if (!isUuid(id)) return null;
      const [row] = await db.select(publicColumns).from(platformAccounts).where(eq(platformAccounts.id, id));
      return row === undefined ? null : toAccount(row as Row);
    },

    async create(input, actorInput) {
      const actor = parseActor(actorInput);
      const { credentials, ...data } = parseInput(createSchema, input, 'platform account');
      const id = randomUUID();
      const now = new Date();
      const credentialsEncrypted = encryptSecret(JSON.stringify(credentials), key, context(id));
      try {
        return await db.transaction(async (tx) => {
          const [row] = await tx
            .insert(platformAccounts)
            .values({ id, ...data, credentialsEncrypted, createdAt: now, updatedAt: now })
            .returning(publicColumns);
          await writeAudit(
            tx,
            actor,
            'account.create',
            id,
            { platform: data.platform, label: data.label, demo: data.demo, enabled: data.enabled },
            now,
          );
          return toAccount(row as Row);
        });
      } catch (error) {
        throw labelTaken(error, data.platform, data.label);
      }
    },

    async update(id, patchInput, actorInput) {
      const actor = parseActor(actorInput);
      const { credentials, ...patch } = parseInput(patchSchema, patchInput, 'platform account changes');
      const current = await mustGet(id);
      const now = new Date();
      const changed = Object.keys(patch).filter(
        (k) => patch[k as keyof typeof patch] !== current[k as keyof PlatformAccount],
      );
      const set: Partial<typeof platformAccounts.$inferInsert> = {
        ...(Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<
          typeof platformAccounts.$inferInsert
        >),
        updatedAt: now,
      };
      if (credentials !== undefined) {
        set.credentialsEncrypted = encryptSecret(JSON.stringify(credentials), key, context(current.id));
        changed.push('credentials');
      }
      if (credentials !== undefined || changed.includes('baseUrl')) {
        set.handle = null;
        set.accountId = null;
      }
      try {
        return await db.transaction(async (tx) => {
          const [row] = await tx
            .update(platformAccounts)
            .set(set)
            .where(eq(platformAccounts.id, current.id))
            .returning(publicColumns);
          if (row === undefined) throw new NotFoundError('platform account', current.id);
          await writeAudit(tx, actor, 'account.update', current.id, { label: row.label, changed }, now);
          return toAccount(row as Row);
        });
      } catch (error) {
        throw labelTaken(error, current.platform, patch.label ?? current.label);
      }
    },

    async remove(id, actorInput) {
      const actor = parseActor(actorInput);
      if (!isUuid(id)) return false;
      return db.transaction(async (tx) => {
        const [row] = await tx
          .delete(platformAccounts)
          .where(eq(platformAccounts.id, id))
          .returning({ platform: platformAccounts.platform, label: platformAccounts.label });
        if (row === undefined) return false;
        await writeAudit(tx, actor, 'account.remove', id, { platform: row.platform, label: row.label });
        return true;
      });
    },

    async credentials(id) {
      const [row] = isUuid(id)
        ? await db
            .select({ credentialsEncrypted: platformAccounts.credentialsEncrypted })
            .from(platformAccounts)
            .where(eq(platformAccounts.id, id))
        : [];
      if (row === undefined) throw new NotFoundError('platform account', String(id));
      let text: string;
      try {
        text = decryptSecret(row.credentialsEncrypted, key, context(id));
      } catch (error) {
        throw new Error(
          `credentials of platform account ${id} cannot be read: ${(error as Error).message} (is KIKIMIMI_ENCRYPTION_KEY the key they were saved with?)`,
        );
      }
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // JSON.parse quotes the text it fails on; the text is the secret.
        throw new Error(`credentials of platform account ${id} are not valid JSON`);
      }
    },

    async recordIdentity(id, identityInput) {
      const identity = parseInput(identitySchema, identityInput, 'account identity');
      const current = await mustGet(id);
      if (current.handle === identity.handle && current.accountId === identity.accountId) return current;
      const now = new Date();
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(platformAccounts)
          .set({ handle: identity.handle, accountId: identity.accountId, updatedAt: now })
          .where(eq(platformAccounts.id, current.id))
          .returning(publicColumns);
        if (row === undefined) throw new NotFoundError('platform account', current.id);
        await writeAudit(
          tx,
          SYSTEM_ACTOR,
          'account.identity',
          current.id,
          { handle: identity.handle, accountId: identity.accountId, previousHandle: current.handle },
          now,
        );
        return toAccount(row as Row);
      });
    },
  };
}
