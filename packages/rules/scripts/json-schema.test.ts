import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/load-config.ts';
import { configJsonSchema, JSON_SCHEMA_PATH } from './json-schema.ts';

const EXAMPLE = fileURLToPath(new URL('../../../docs/examples/shiori-note.json', import.meta.url));

describe('the published configuration schema', () => {
  it('is what the zod schema produces (run `npm run schema -w @kikimimi/rules` after changing config.ts)', async () => {
    const published = JSON.parse(await readFile(JSON_SCHEMA_PATH, 'utf8'));
    expect(published).toEqual(configJsonSchema());
  });

  it('describes the example configuration, which loads without problems', async () => {
    const example = JSON.parse(await readFile(EXAMPLE, 'utf8'));
    const loaded = loadConfig(example);
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
    const schema = configJsonSchema() as { properties: Record<string, unknown> };
    for (const key of Object.keys(example)) expect(Object.keys(schema.properties)).toContain(key);
  });
});
