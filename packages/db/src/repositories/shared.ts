import { formatPath } from '@kikimimi/rules';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { InvalidInputError } from '../errors.ts';
import { auditLog } from '../schema.ts';
import type { Actor, AuditEntry, ConfigProblemList } from '../types.ts';

/** A transaction handle, or the database itself when one statement is enough. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Executor = Database | Tx;

export const actorSchema = z.strictObject({
  kind: z.enum(['discord', 'web', 'system']),
  id: z.string().min(1).max(200),
  name: z.string().max(200),
});

/** kikimimi acting on its own (identity checks, sweeps). */
export const SYSTEM_ACTOR: Actor = { kind: 'system', id: 'kikimimi', name: 'kikimimi' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

/** True for a syntactically valid uuid: anything else cannot be a row id, and PostgreSQL would throw. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

export function zodProblems(error: z.ZodError, prefix = ''): ConfigProblemList {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    return {
      path: prefix === '' ? path : path === '(root)' ? prefix : `${prefix}.${path}`,
      message: issue.message,
    };
  });
}

/** Parses input from outside, or throws an {@link InvalidInputError} naming every fault. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new InvalidInputError(what, zodProblems(parsed.error));
  return parsed.data;
}

export function parseActor(actor: unknown): Actor {
  return parseInput(actorSchema, actor, 'actor');
}

/** A valid Date, or an {@link InvalidInputError}. */
export function parseDate(value: unknown, what: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidInputError(what, [{ path: '(root)', message: 'expected a valid Date' }]);
  }
  return value;
}

/** `YYYY-MM-DD` of the UTC day `at` falls in. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Keeps stored error texts bounded. */
export function clip(text: string, max = 2000): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The PostgreSQL SQLSTATE of an error (drizzle wraps driver errors in `cause`). */
export function pgCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/u.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The constraint a PostgreSQL error names, if any. */
export function pgConstraint(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const constraint = (e as { constraint?: unknown }).constraint;
    if (typeof constraint === 'string') return constraint;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export const FOREIGN_KEY_VIOLATION = '23503';
export const UNIQUE_VIOLATION = '23505';

type AuditRow = typeof auditLog.$inferSelect;

export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: String(row.id),
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    detail: row.detail,
  };
}

/**
 * Appends an audit entry (inside the caller's transaction when given one). Times are written from
 * JavaScript, at millisecond precision, so that keyset paging with a Date read back is exact.
 */
export async function writeAudit(
  ex: Executor,
  actor: Actor,
  action: string,
  target: string | null,
  detail: Record<string, unknown>,
  at: Date = new Date(),
): Promise<AuditEntry> {
  const [row] = await ex.insert(auditLog).values({ at, actor, action, target, detail }).returning();
  return toAuditEntry(row as AuditRow);
}

/** Freezes `value` and everything it holds (plain data: objects and arrays), so a shared copy cannot be changed. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
