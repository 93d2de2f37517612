import { configSchema } from '@kikimimi/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_KEY, type TestDb, WEB_ACTOR } from '../../test/support.ts';
import { createRepositories } from './index.ts';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb('config');
});
afterAll(async () => {
  await t?.drop();
});

const count = async (table: string) =>
  (await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n;

const good = {
  variables: { helpUrl: 'https://help.example.com/' },
  watches: [{ id: 'brand', query: 'ブクログ OR booklog' }],
  templates: [{ id: 'thanks', category: 'thanks', text: 'ありがとうございます！' }],
};

describe('config repository', () => {
  it('starts from the defaults at version 0', async () => {
    const current = await t.repos.config.current();
    expect(current).toEqual({ version: 0, config: configSchema.parse({}) });
    expect(await t.repos.config.history(10)).toEqual([]);
  });

  it('replaces the whole document as a new version, audited', async () => {
    const result = await t.repos.config.replace(good, WEB_ACTOR);
    expect(result).toEqual({ ok: true, version: expect.any(Number) });
    const current = await t.repos.config.current();
    expect(result.ok && current.version).toBe(result.ok && result.version);
    expect(current.config.watches).toEqual([{ id: 'brand', query: 'ブクログ OR booklog', enabled: true }]);
    const [entry] = await t.repos.audit.list({ limit: 1 });
    expect(entry).toMatchObject({
      action: 'config.replace',
      actor: WEB_ACTOR,
      detail: { version: current.version, previousVersion: 0, watches: 1 },
    });
  });

  it('lists every problem and saves nothing when the document is invalid', async () => {
    const before = await t.repos.config.current();
    const versions = await count('config_versions');
    const audits = await count('audit_log');
    const result = await t.repos.config.replace(
      {
        watches: [
          { id: 'Bad Id', query: 'ok' },
          { id: 'q', query: '(unclosed' },
        ],
        templates: [{ id: 't', category: 'thanks', text: 'hi {vars.missing}', watches: ['nope'] }],
      },
      WEB_ACTOR,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path)).toEqual(expect.arrayContaining(['watches[0].id']));
    const second = await t.repos.config.replace(
      {
        watches: [{ id: 'q', query: '(unclosed' }],
        templates: [{ id: 't', category: 'thanks', text: 'hi {vars.missing}', watches: ['nope'] }],
      },
      WEB_ACTOR,
    );
    expect(second.ok).toBe(false);
    if (second.ok) return;
    expect(second.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['watches[0].query', 'templates[0].text', 'templates[0].watches[0]']),
    );
    expect(await t.repos.config.current()).toEqual(before);
    expect(await count('config_versions')).toBe(versions);
    expect(await count('audit_log')).toBe(audits);
  });

  it('refuses a replace based on an outdated version', async () => {
    const { version } = await t.repos.config.current();
    const stale = await t.repos.config.replace(good, WEB_ACTOR, { expectedVersion: version - 1 });
    expect(stale).toEqual({
      ok: false,
      problems: [{ path: '(root)', message: expect.stringMatching(/changed meanwhile/u) }],
    });
    expect(await t.repos.config.replace(good, WEB_ACTOR, { expectedVersion: version })).toEqual({
      ok: true,
      version: version + 1,
    });
  });

  it('upserts and removes watches, templates and escalation rules, validating the whole result', async () => {
    const c = t.repos.config;
    expect((await c.upsertWatch({ id: 'app', query: 'アプリ AND 落ちる' }, WEB_ACTOR)).ok).toBe(true);
    expect((await c.upsertWatch({ id: 'brand', query: 'booklog', name: 'Brand' }, WEB_ACTOR)).ok).toBe(true);
    let config = (await c.current()).config;
    expect(config.watches.map((w) => [w.id, w.query])).toEqual([
      ['brand', 'booklog'],
      ['app', 'アプリ AND 落ちる'],
    ]);

    const bad = await c.upsertWatch({ id: 'broken', query: '"unterminated' }, WEB_ACTOR);
    expect(bad).toMatchObject({ ok: false, problems: [{ path: 'watches[2].query' }] });

    expect(
      (
        await c.upsertTemplate(
          { id: 'sorry', category: 'apology', text: 'ごめんなさい', watches: ['app'] },
          WEB_ACTOR,
        )
      ).ok,
    ).toBe(true);
    expect(
      (
        await c.upsertEscalationRule(
          { id: 'billing', when: { watches: ['app'] }, actions: { route: 'billing' } },
          WEB_ACTOR,
        )
      ).ok,
    ).toBe(true);

    // 'app' is referenced: removing it would leave dangling references, so nothing is saved.
    const version = (await c.current()).version;
    const dangling = await c.removeWatch('app', WEB_ACTOR);
    expect(dangling.ok).toBe(false);
    if (!dangling.ok) {
      expect(dangling.problems.map((p) => p.path)).toEqual(
        expect.arrayContaining(['templates[1].watches[0]', 'escalation[0].when.watches[0]']),
      );
    }
    expect((await c.current()).version).toBe(version);

    expect((await c.removeEscalationRule('billing', WEB_ACTOR)).ok).toBe(true);
    expect((await c.removeTemplate('sorry', WEB_ACTOR)).ok).toBe(true);
    expect((await c.removeWatch('app', WEB_ACTOR)).ok).toBe(true);
    expect(await c.removeWatch('app', WEB_ACTOR)).toEqual({
      ok: false,
      problems: [{ path: 'watches', message: 'no watch has the id "app"' }],
    });
    config = (await c.current()).config;
    expect(config.watches.map((w) => w.id)).toEqual(['brand']);
    expect(config.templates.map((x) => x.id)).toEqual(['thanks']);
    expect(config.escalation).toEqual([]);

    const actions = (await t.repos.audit.list({ limit: 50, action: 'config.*' })).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'config.watch.upsert',
        'config.watch.remove',
        'config.template.upsert',
        'config.template.remove',
        'config.escalation.upsert',
        'config.escalation.remove',
      ]),
    );
  });

  it('sets whole sections, with problems located in the document', async () => {
    const c = t.repos.config;
    expect(
      (await c.setSuppression({ authorCooldownHours: 24, dailyReplyCap: { x: 50 } }, WEB_ACTOR)).ok,
    ).toBe(true);
    expect(
      (await c.setRouting({ defaultReviewChannel: 'inbox', watches: { brand: 'brand' } }, WEB_ACTOR)).ok,
    ).toBe(true);
    expect((await c.setClassifier({ praise: ['神アプリ'] }, WEB_ACTOR)).ok).toBe(true);
    expect((await c.setVariables({ helpUrl: 'https://help.example.com/v2' }, WEB_ACTOR)).ok).toBe(true);
    const { config } = await c.current();
    expect(config.suppression.authorCooldownHours).toBe(24);
    expect(config.suppression.dailyReplyCap).toEqual({ x: 50 });
    expect(config.routing.defaultReviewChannel).toBe('inbox');
    expect(config.classifier.praise).toEqual(['神アプリ']);
    expect(config.variables).toEqual({ helpUrl: 'https://help.example.com/v2' });

    expect(await c.setRouting({ watches: { ghost: 'x' } }, WEB_ACTOR)).toMatchObject({
      ok: false,
      problems: [{ path: 'routing.watches.ghost' }],
    });
    expect(await c.setSuppression({ maxAgeHours: -1 }, WEB_ACTOR)).toMatchObject({
      ok: false,
      problems: [{ path: 'suppression.maxAgeHours' }],
    });
    expect((await c.setVariables({ 'bad name': 'x' }, WEB_ACTOR)).ok).toBe(false);
    for (const action of [
      'config.suppression.set',
      'config.routing.set',
      'config.classifier.set',
      'config.variables.set',
    ]) {
      expect(await t.repos.audit.list({ limit: 5, action })).toHaveLength(1);
    }
  });

  it('serialises concurrent read-modify-write helpers: no update is lost', async () => {
    const c = t.repos.config;
    const ids = Array.from({ length: 8 }, (_, i) => `w${i}`);
    const results = await Promise.all(ids.map((id) => c.upsertWatch({ id, query: `word${id}` }, WEB_ACTOR)));
    expect(results.every((r) => r.ok)).toBe(true);
    const versions = results.map((r) => (r.ok ? r.version : 0)).sort((a, b) => a - b);
    expect(new Set(versions).size).toBe(ids.length);
    const { config } = await c.current();
    for (const id of ids) expect(config.watches.some((w) => w.id === id)).toBe(true);
  });

  it('keeps history, newest first, and any saved version', async () => {
    const history = await t.repos.config.history(3);
    expect(history).toHaveLength(3);
    expect(history[0]?.version).toBeGreaterThan(history[1]?.version ?? Infinity);
    expect(history[0]?.actor).toEqual(WEB_ACTOR);
    const first = await t.repos.config.version(1);
    expect(first?.config.watches.map((w) => w.id)).toEqual(['brand']);
    expect(await t.repos.config.version(10_000)).toBeNull();
    await expect(t.repos.config.history(0)).rejects.toThrow(/history limit/u);
  });

  it('reads each version once per process, sees versions saved by another process, and hands out frozen copies', async () => {
    const other = createRepositories(t.db, { encryptionKey: TEST_KEY }); // another process's repositories
    const before = await t.repos.config.current();
    expect(await t.repos.config.current()).toBe(before); // the same parsed document, not parsed again
    expect(Object.isFrozen(before.config)).toBe(true);
    expect(Object.isFrozen(before.config.watches[0])).toBe(true);
    expect(() => {
      (before.config.watches as unknown[]).push({ id: 'sneaky', query: 'x' });
    }).toThrow(TypeError);

    const saved = await other.config.replace(
      { ...good, watches: [{ id: 'elsewhere', query: 'ほかのプロセス' }] },
      WEB_ACTOR,
    );
    expect(saved.ok).toBe(true);
    const after = await t.repos.config.current();
    expect(after.version).toBe(saved.ok ? saved.version : -1);
    expect(after.config.watches.map((w) => w.id)).toEqual(['elsewhere']);
    expect((await other.config.current()).config).toEqual(after.config);
  });

  it('refuses an invalid actor before touching anything', async () => {
    await expect(t.repos.config.replace(good, { kind: 'robot', id: '', name: 'x' } as never)).rejects.toThrow(
      /actor/u,
    );
  });
});
