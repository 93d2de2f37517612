import type { Repositories } from '@kikimimi/db';

/**
 * What the worker needs from the system of record: @kikimimi/db's repositories. Handlers take it as
 * a collaborator (passed in), so the composition root decides which database and schema.
 */
export type Store = Repositories;
export type ConfigStore = Repositories['config'];
