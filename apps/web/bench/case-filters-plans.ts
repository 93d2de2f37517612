/**
 * The inbox's case filters (issue 11) on 100,000 matches: the plans PostgreSQL picks for the list
 * query of each filter (by case state, by assignee: me / a teammate / nobody, combined), with the
 * time each took (EXPLAIN ANALYZE, warm, run 3×, the best shown). Prints; asserts nothing.
 *
 *   node apps/web/bench/case-filters-plans.ts [--matches 100000]
 *
 * Seed: a fresh schema (migrations), one match stored through the repositories as ingest stores it,
 * copied by INSERT … SELECT generate_series into --matches posts and matches over 90 days: case state
 * as a desk that keeps up has them — 2 % open, 8 % waiting, 90 % resolved; 3 % assigned to "aiko", 2 %
 * to "ben", the rest to nobody.
 * The statements are the repositories' own (captured from the pool), EXPLAINed with their parameters;
 * then once more without the two indexes of migration 0007, to show what they are for.
 * The schema is dropped at the end. Needs PostgreSQL (KIKIMIMI_BENCH_DATABASE_URL).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createDb, createRepositories, type MatchFilters, migrate } from '@kikimimi/db';
import { loadConfig, postSchema } from '@kikimimi/rules';

const { values } = parseArgs({ options: { matches: { type: 'string', default: '100000' } } });
const N = Number(values.matches);
const URL = process.env.KIKIMIMI_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `kk_bench_cases_${randomBytes(4).toString('hex')}`;
const handle = createDb({ connectionString: URL, schema, max: 2 });
const SYSTEM = { kind: 'system', id: 'bench', name: 'bench' } as const;

try {
  await migrate(handle.pool);
  const repos = createRepositories(handle.db, { encryptionKey: randomBytes(32).toString('base64') });
  const loaded = loadConfig({ watches: [{ id: 'brand', query: 'しおりノート' }] });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const now = new Date();
  const post = postSchema.parse({
    platform: 'x',
    id: 'seed',
    url: 'https://x.com/u/status/seed',
    author: { id: 'a-seed', handle: 'seed', displayName: 'seed', followers: 1 },
    text: 'しおりノートが使いにくい',
    createdAt: now.toISOString(),
  });
  const account = await repos.accounts.create(
    { platform: 'x', label: 'bench', credentials: { bearerToken: 'bench' } },
    SYSTEM,
  );
  const decision = loaded.engine.decide(post, { now });
  await repos.ingest.storeBatch(account.id, [{ post, decision }], undefined, now);
  const aiko = '00000000-0000-4000-8000-0000000a1c00';
  const ben = '00000000-0000-4000-8000-00000000b0b0';
  const started = Date.now();
  // Posts, then matches, copied from the stored one; ids and times varied.
  await handle.pool.query(
    `INSERT INTO posts (platform, post_id, account_id, url, author_id, text, lang, created_at, post, fetched_at)
     SELECT p.platform, 'p' || g, p.account_id, p.url, 'a' || (g % 20000), p.text, p.lang,
            now() - (g * interval '77 seconds'), p.post, now() - (g * interval '77 seconds')
       FROM posts p, generate_series(1, $1::int) g WHERE p.post_id = 'seed'`,
    [N],
  );
  await handle.pool.query(
    `INSERT INTO matches (platform, post_id, account_id, watches, intent, category, priority, review_channel,
                          decision, suppressed, suppression_reasons, escalated, status, created_at,
                          case_state, assignee)
     SELECT m.platform, 'p' || g, m.account_id, m.watches, m.intent, m.category, m.priority, m.review_channel,
            m.decision, m.suppressed, m.suppression_reasons, m.escalated,
            (ARRAY['new', 'replied', 'dismissed'])[1 + g % 3], now() - (g * interval '77 seconds'),
            CASE WHEN g % 100 < 2 THEN 'open' WHEN g % 100 < 10 THEN 'waiting' ELSE 'resolved' END,
            CASE WHEN g % 100 < 3 THEN jsonb_build_object('kind', 'web', 'id', $2::text, 'name', 'aiko')
                 WHEN g % 100 < 5 THEN jsonb_build_object('kind', 'web', 'id', $3::text, 'name', 'ben')
                 ELSE NULL END
       FROM matches m, generate_series(1, $1::int) g WHERE m.post_id = 'seed'`,
    [N, aiko, ben],
  );
  await handle.pool.query('VACUUM ANALYZE posts');
  await handle.pool.query('VACUUM ANALYZE matches');
  console.log(
    `seeded ${N.toLocaleString('en')} matches in ${((Date.now() - started) / 1000).toFixed(1)} s (schema ${schema})`,
  );

  // Capture the list query of the repository, then EXPLAIN it with its parameters.
  const pool = handle.pool as unknown as { query: (...args: unknown[]) => Promise<unknown> };
  const original = pool.query.bind(pool);
  let captured: { text: string; values: unknown[] } | null = null;
  pool.query = (async (...args: unknown[]) => {
    const first = args[0] as { text?: string; values?: unknown[] } | string;
    if (typeof first === 'object' && first?.text?.startsWith('select') && captured === null)
      captured = { text: first.text, values: first.values ?? [] };
    return original(...args);
  }) as typeof pool.query;

  const cases: Array<[string, MatchFilters]> = [
    ['no filter', {}],
    ['case=open', { caseState: 'open' }],
    ['case=waiting', { caseState: 'waiting' }],
    ['case=resolved', { caseState: 'resolved' }],
    ['assignee=me (3 %)', { assignee: { kind: 'web', id: aiko } }],
    ['assignee=a teammate (2 %)', { assignee: { kind: 'web', id: ben } }],
    ['assignee=nobody', { assignee: null }],
    ['case=open & assignee=me', { caseState: 'open', assignee: { kind: 'web', id: aiko } }],
    ['status=new & case=waiting', { status: 'new', caseState: 'waiting' }],
    [
      'assignee=someone with no case',
      { assignee: { kind: 'web', id: '00000000-0000-4000-8000-000000000000' } },
    ],
  ];
  const run = async (title: string) => {
    console.log(`\n${title}`);
    console.log('filter                              rows  best ms  plan (top nodes)');
    for (const [name, filters] of cases) {
      captured = null;
      const rows = await repos.matches.list(filters, { limit: 51 });
      const query = captured as { text: string; values: unknown[] } | null;
      if (query === null) throw new Error(`no statement captured for ${name}`);
      let best = Number.POSITIVE_INFINITY;
      let plan: string[] = [];
      for (let i = 0; i < 3; i++) {
        const result = (await original({
          text: `EXPLAIN (ANALYZE, BUFFERS) ${query.text}`,
          values: query.values,
        })) as {
          rows: Array<{ 'QUERY PLAN': string }>;
        };
        const lines = result.rows.map((r) => r['QUERY PLAN']);
        const ms = Number(/Execution Time: ([\d.]+) ms/u.exec(lines.join('\n'))?.[1] ?? 'NaN');
        if (ms < best) {
          best = ms;
          plan = lines;
        }
      }
      const nodes = plan
        .filter((l) => /^\s*(?:->|Limit)/u.test(l))
        .slice(0, 4)
        .map((l) =>
          l
            .trim()
            .replace(/^->\s*/u, '')
            .replace(/\s+\(cost=.*$/u, ''),
        );
      console.log(
        `${name.padEnd(34)} ${String(rows.length).padStart(5)} ${best.toFixed(2).padStart(8)}  ${nodes.join(' / ')}`,
      );
    }
  };
  await run('with the indexes of migration 0007');
  // Without them: what the two indexes are for.
  await original('DROP INDEX matches_case_state_created_idx');
  await original('DROP INDEX matches_assignee_created_idx');
  await run('without them (dropped here)');
} finally {
  await handle.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
  await handle.close();
}
