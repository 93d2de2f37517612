import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema } from '../src/config.ts';

/** Where the published schema lives in the repository. */
export const JSON_SCHEMA_PATH = fileURLToPath(
  new URL('../../../docs/kikimimi-config.schema.json', import.meta.url),
);

/** The configuration schema as JSON Schema (draft 2020-12), describing what users may write. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://github.com/kikimimi/kikimimi/docs/kikimimi-config.schema.json',
    title: 'kikimimi configuration',
    description:
      'Watches, templates, escalation rules, suppression, routing and classifier words: the file the web console imports and exports and `kikimimi dry-run --config` reads.',
  };
}
