import { type Config, configSchema, loadConfig } from '@kikimimi/rules';
import { desc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { configVersions } from '../schema.ts';
import type { Actor, ConfigProblemList } from '../types.ts';
import { deepFreeze, parseActor, parseInput, type Tx, writeAudit } from './shared.ts';

/** The outcome of every configuration change: saved as a new version, or every problem and nothing saved. */
export type ConfigChangeResult =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly problems: ConfigProblemList };

export interface ConfigVersion {
  readonly version: number;
  readonly config: Config;
  readonly actor: Actor;
  readonly createdAt: Date;
}

export interface ReplaceOptions {
  /** Optimistic concurrency: refuse when the current version is not this one (someone saved meanwhile). */
  readonly expectedVersion?: number;
}

/**
 * The configuration: one JSON document validated as a whole (rules' `loadConfig`), stored append-only.
 * Every change reads the latest version under a lock, applies itself, validates the whole result and
 * saves a new version with its audit entry in one transaction.
 */
export interface ConfigRepository {
  /** The current configuration; the defaults at version 0 when none was ever saved. */
  current(): Promise<{ version: number; config: Config }>;
  replace(input: unknown, actor: Actor, options?: ReplaceOptions): Promise<ConfigChangeResult>;
  /** Newest first. */
  history(limit: number): Promise<ConfigVersion[]>;
  /** One saved version, or null. */
  version(version: number): Promise<ConfigVersion | null>;
  /** Adds the watch, or replaces the one with the same id. */
  upsertWatch(input: unknown, actor: Actor): Promise<ConfigChangeResult>;
  removeWatch(id: string, actor: Actor): Promise<ConfigChangeResult>;
  upsertTemplate(input: unknown, actor: Actor): Promise<ConfigChangeResult>;
  removeTemplate(id: string, actor: Actor): Promise<ConfigChangeResult>;
  upsertEscalationRule(input: unknown, actor: Actor): Promise<ConfigChangeResult>;
  removeEscalationRule(id: string, actor: Actor): Promise<ConfigChangeResult>;
  /** Replaces the whole section (absent fields take their defaults). */
  setSuppression(input: unknown, actor: Actor): Promise<ConfigChangeResult>;
  setRouting(input: unknown, actor: Actor): Promise<ConfigChangeResult>;
  setClassifier(input: unknown, actor: Actor): Promise<ConfigChangeResult>;
  setVariables(input: unknown, actor: Actor): Promise<ConfigChangeResult>;
  setPlatformOptions(input: unknown, actor: Actor): Promise<ConfigChangeResult>;
  /** The organisation's facts (its time zone). */
  setOrganization(input: unknown, actor: Actor): Promise<ConfigChangeResult>;
}

type ListKind = 'watches' | 'templates' | 'escalation';
type Section = 'suppression' | 'routing' | 'classifier' | 'variables' | 'platforms' | 'organization';

const ITEM_NAME: Record<ListKind, string> = {
  watches: 'watch',
  templates: 'template',
  escalation: 'escalation',
};
const ITEM_NOUN: Record<ListKind, string> = {
  watches: 'watch',
  templates: 'template',
  escalation: 'escalation rule',
};

/** A mutation of the current document: the next raw document, or problems that stop the change. */
type Mutation = (current: Config) => { next: unknown; detail?: Record<string, unknown> } | ConfigProblemList;

const limitSchema = z.number().int().min(1).max(1000);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toVersion(row: typeof configVersions.$inferSelect): ConfigVersion {
  return {
    version: row.version,
    config: configSchema.parse(row.config),
    actor: row.actor,
    createdAt: row.createdAt,
  };
}

export function createConfigRepository(db: Database): ConfigRepository {
  /** Serialises configuration writers; transaction-scoped, so it cannot leak. */
  const lock = (tx: Tx) =>
    tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.kikimimi.config'))`);

  /*
   * Versions are append-only, so a parsed version never changes: the last one read is kept (frozen,
   * shared by every caller) and only the head's version and time are asked for on each call. Parsing
   * the document is most of the cost of reading it (every console page and every job reads it).
   */
  let kept: { version: number; createdAt: number; value: { version: number; config: Config } } | undefined;
  const latest = async (ex: Database | Tx): Promise<{ version: number; config: Config }> => {
    const [head] = await ex
      .select({ version: configVersions.version, createdAt: configVersions.createdAt })
      .from(configVersions)
      .orderBy(desc(configVersions.version))
      .limit(1);
    if (head === undefined) return { version: 0, config: configSchema.parse({}) };
    if (kept?.version === head.version && kept.createdAt === head.createdAt.getTime()) return kept.value;
    const [row] = await ex.select().from(configVersions).where(eq(configVersions.version, head.version));
    if (row === undefined) throw new Error(`configuration version ${head.version} vanished while read`);
    const value = { version: row.version, config: deepFreeze(configSchema.parse(row.config)) };
    kept = { version: row.version, createdAt: row.createdAt.getTime(), value };
    return value;
  };

  const change = async (
    actorInput: Actor,
    action: string,
    target: string | null,
    mutate: Mutation,
    expectedVersion?: number,
  ): Promise<ConfigChangeResult> => {
    const actor = parseActor(actorInput);
    return db.transaction(async (tx) => {
      await lock(tx);
      const current = await latest(tx);
      if (expectedVersion !== undefined && expectedVersion !== current.version) {
        return {
          ok: false,
          problems: [
            {
              path: '(root)',
              message: `the configuration changed meanwhile: expected version ${expectedVersion}, the current one is ${current.version}`,
            },
          ],
        };
      }
      const mutated = mutate(structuredClone(current.config));
      if (Array.isArray(mutated)) return { ok: false, problems: mutated };
      const { next, detail = {} } = mutated as { next: unknown; detail?: Record<string, unknown> };
      const loaded = loadConfig(next);
      if (!loaded.ok) return { ok: false, problems: loaded.problems };
      const [row] = await tx
        .insert(configVersions)
        .values({ config: loaded.config, actor })
        .returning({ version: configVersions.version });
      const version = (row as { version: number }).version;
      await writeAudit(tx, actor, action, target, { ...detail, version, previousVersion: current.version });
      return { ok: true, version };
    });
  };

  const upsertItem = (kind: ListKind) => (input: unknown, actor: Actor) => {
    const id = isRecord(input) && typeof input.id === 'string' ? input.id : null;
    return change(actor, `config.${ITEM_NAME[kind]}.upsert`, id, (current) => {
      const list: unknown[] = [...current[kind]];
      const index = id === null ? -1 : current[kind].findIndex((item) => item.id === id);
      if (index >= 0) list[index] = input;
      else list.push(input);
      return { next: { ...current, [kind]: list }, detail: { id, created: index < 0 } };
    });
  };

  const removeItem = (kind: ListKind) => (id: string, actor: Actor) =>
    change(actor, `config.${ITEM_NAME[kind]}.remove`, typeof id === 'string' ? id : null, (current) => {
      const list = current[kind] as ReadonlyArray<{ id: string }>;
      if (!list.some((item) => item.id === id)) {
        return [{ path: kind, message: `no ${ITEM_NOUN[kind]} has the id ${JSON.stringify(id)}` }];
      }
      return { next: { ...current, [kind]: list.filter((item) => item.id !== id) }, detail: { id } };
    });

  const setSection = (section: Section) => (input: unknown, actor: Actor) =>
    change(actor, `config.${section}.set`, null, (current) => ({ next: { ...current, [section]: input } }));

  return {
    current: () => latest(db),

    replace(input, actor, options = {}) {
      return change(
        actor,
        'config.replace',
        null,
        () => ({
          next: input,
          detail: isRecord(input)
            ? {
                watches: Array.isArray(input.watches) ? input.watches.length : 0,
                templates: Array.isArray(input.templates) ? input.templates.length : 0,
                escalation: Array.isArray(input.escalation) ? input.escalation.length : 0,
              }
            : {},
        }),
        options.expectedVersion,
      );
    },

    async history(limit) {
      const n = parseInput(limitSchema, limit, 'history limit');
      const rows = await db.select().from(configVersions).orderBy(desc(configVersions.version)).limit(n);
      return rows.map(toVersion);
    },

    async version(version) {
      if (!Number.isInteger(version) || version < 1 || version > 2_147_483_647) return null;
      const rows = await db.select().from(configVersions).where(sql`${configVersions.version} = ${version}`);
      return rows[0] === undefined ? null : toVersion(rows[0]);
    },

    upsertWatch: upsertItem('watches'),
    removeWatch: removeItem('watches'),
    upsertTemplate: upsertItem('templates'),
    removeTemplate: removeItem('templates'),
    upsertEscalationRule: upsertItem('escalation'),
    removeEscalationRule: removeItem('escalation'),
    setSuppression: setSection('suppression'),
    setRouting: setSection('routing'),
    setClassifier: setSection('classifier'),
    setVariables: setSection('variables'),
    setPlatformOptions: setSection('platforms'),
    setOrganization: setSection('organization'),
  };
}
