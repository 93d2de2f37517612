import type { ConfigProblemList } from './types.ts';

/** Input from outside did not pass validation; `problems` locate each fault (`label`, `credentials`). */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  readonly problems: ConfigProblemList;
  constructor(what: string, problems: ConfigProblemList) {
    super(`${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.problems = problems;
  }
}

/** The row an operation needs does not exist. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  readonly entity: string;
  readonly id: string;
  constructor(entity: string, id: string) {
    super(`${entity} ${JSON.stringify(id)} does not exist`);
    this.entity = entity;
    this.id = id;
  }
}

/** The operation contradicts a row already there (a duplicate label, a reused idempotency key). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}
