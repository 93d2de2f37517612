import { and, desc, eq, like, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { auditLog } from '../schema.ts';
import type { Actor, AuditEntry } from '../types.ts';
import { parseActor, parseInput, toAuditEntry, writeAudit } from './shared.ts';

export interface AuditListOptions {
  readonly limit: number;
  /** Keyset: entries strictly older than this one (pass the last entry of the previous page). */
  readonly before?: { readonly at: Date; readonly id: string } | undefined;
  /** An exact action (`account.create`), or a prefix ending in `.*` (`config.*`). */
  readonly action?: string | undefined;
}

/** Who changed what, newest first. */
export interface AuditRepository {
  record(
    actor: Actor,
    action: string,
    target: string | null,
    detail?: Readonly<Record<string, unknown>>,
  ): Promise<AuditEntry>;
  list(options: AuditListOptions): Promise<AuditEntry[]>;
}

const recordSchema = z.object({
  action: z
    .string()
    .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/u, 'a dotted name such as "account.create"'),
  target: z.string().max(500).nullable(),
  detail: z.record(z.string(), z.unknown()),
});

const listSchema = z.object({
  limit: z.number().int().min(1).max(1000),
  before: z.object({ at: z.date(), id: z.string().regex(/^\d+$/u, 'an audit entry id') }).optional(),
  action: z.string().min(1).max(200).optional(),
});

export function createAuditRepository(db: Database): AuditRepository {
  return {
    async record(actor, action, target, detail = {}) {
      const input = parseInput(recordSchema, { action, target, detail }, 'audit entry');
      return writeAudit(db, parseActor(actor), input.action, input.target, input.detail);
    },

    async list(options) {
      const { limit, before, action } = parseInput(listSchema, options, 'audit list options');
      const conditions = [];
      if (action !== undefined) {
        conditions.push(
          action.endsWith('.*')
            ? like(auditLog.action, `${action.slice(0, -1).replace(/[\\%_]/gu, '\\$&')}%`)
            : eq(auditLog.action, action),
        );
      }
      if (before !== undefined) {
        conditions.push(sql`(${auditLog.at}, ${auditLog.id}) < (${before.at}, ${Number(before.id)})`);
      }
      const rows = await db
        .select()
        .from(auditLog)
        .where(and(...conditions))
        .orderBy(desc(auditLog.at), desc(auditLog.id))
        .limit(limit);
      return rows.map(toAuditEntry);
    },
  };
}
