/**
 * Writes the configuration's JSON Schema to docs/kikimimi-config.schema.json (run after changing
 * src/config.ts; a test fails while the published file differs from the code).
 */
import { writeFile } from 'node:fs/promises';
import { configJsonSchema, JSON_SCHEMA_PATH } from './json-schema.ts';

await writeFile(JSON_SCHEMA_PATH, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${JSON_SCHEMA_PATH}`);
