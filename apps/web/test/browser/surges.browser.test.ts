import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MatchRecord } from '@kikimimi/db';
import { createDb, type DbHandle, migrate } from '@kikimimi/db';
import { loadConfig, postSchema } from '@kikimimi/rules';
import { Redis } from 'ioredis';
import pino from 'pino';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWeb, startWeb } from '../../src/main.ts';
import { TEST_DATABASE_URL } from '../harness.ts';

/*
 * A surge's page in a real Chromium, under the console's CSP: the reply box's length line follows the
 * typing (the server measures per member, Mastodon with the @handle in front), choosing one member
 * unticks "everyone waiting", and the reply sent from the form shows in the members' queue.
 */

const CHROMIUM = process.env.KIKIMIMI_CHROMIUM ?? '/usr/bin/chromium';
const REDIS_URL = process.env.KIKIMIMI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCREENSHOTS = join(import.meta.dirname, '../../../../artifacts/screenshots');
const ADMIN = { username: 'surge-admin', password: 'しおりノートの長い管理者パスワード' };
const SURGE = 'surge:33333333-4444-4555-8666-777777777777';
const SYSTEM = { kind: 'system', id: 'test', name: 'test' } as const;

describe.skipIf(!existsSync(CHROMIUM))('a surge’s page in Chromium', () => {
  const schema = `test_surge_browser_${randomBytes(4).toString('hex')}`;
  const prefix = `kk-surge-browser-${randomBytes(4).toString('hex')}`;
  const problems: string[] = [];
  let db: DbHandle | undefined;
  let web: RunningWeb | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const members: MatchRecord[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    db = createDb({ connectionString: TEST_DATABASE_URL, schema, max: 2 });
    await migrate(db.pool);
    web = await startWeb({
      databaseUrl: TEST_DATABASE_URL,
      databaseSchema: schema,
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
      encryptionKey: randomBytes(32).toString('base64'),
      host: '127.0.0.1',
      port: 0,
      migrate: false,
      log: pino({ level: 'silent' }),
    });
    const { repos } = web.deps;
    const config = {
      variables: { helpUrl: 'https://help.example.com/outage' },
      watches: [{ id: 'brand', query: 'しおりノート' }],
      templates: [
        { id: 'guide', category: 'guidance', text: '{author.name}さん、こちらをご覧ください {vars.helpUrl}' },
      ],
      suppression: { maxAgeHours: 0 },
    };
    const saved = await repos.config.replace(config, SYSTEM);
    if (!saved.ok) throw new Error(JSON.stringify(saved.problems));
    const loaded = loadConfig(config);
    if (!loaded.ok) throw new Error('config');
    for (const [platform, handle] of [
      ['x', 'aoi'],
      ['x', 'ren'],
      ['mastodon', 'kai'],
    ] as const) {
      const account = await repos.accounts.create(
        { platform, label: `${platform}-${handle}`, baseUrl: 'https://mstdn.example', credentials: { t: 1 } },
        SYSTEM,
      );
      const post = postSchema.parse({
        platform,
        id: `${handle}-1`,
        url: `https://example.com/${handle}/1`,
        author: { id: handle, handle, displayName: handle, followers: 1 },
        text: 'しおりノート ログインできない',
        createdAt: new Date().toISOString(),
      });
      const stored = await repos.ingest.storeBatch(
        account.id,
        [{ post, decision: loaded.engine.decide(post, { now: new Date() }) }],
        undefined,
        new Date(),
      );
      members.push(...stored.newMatches);
    }
    const now = Date.now();
    await repos.surges.record(
      {
        id: SURGE,
        watchId: 'brand',
        status: 'open',
        detectedAt: now,
        firstAt: now - 60_000,
        lastAt: now,
        count: 3,
        intents: { trouble: 3 },
        platforms: { x: 2, mastodon: 1 },
        examples: [],
        perMinute: [],
      },
      members.map((m) => m.id),
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    const context = await browser.newContext({ locale: 'ja-JP' });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 404/u.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await web?.close(1_000).catch(() => {});
    if (db) {
      await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await db.close().catch(() => {});
    }
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const keys = await redis.keys(`${prefix}:*`).catch(() => []);
    if (keys.length > 0) await redis.del(...keys).catch(() => {});
    redis.disconnect();
  }, 30_000);

  it('measures the reply as it is typed, and shows the queue after sending', async () => {
    const base = web?.url ?? '';
    await page.goto(`${base}/setup`);
    await page.fill('#f-username', ADMIN.username);
    await page.fill('#f-password', ADMIN.password);
    await page.fill('#f-confirm', ADMIN.password);
    await Promise.all([page.waitForNavigation(), page.click('form[action="/setup"] button[type=submit]')]);
    await page.goto(`${base}/surges/${encodeURIComponent(SURGE)}`);
    expect(await page.inputValue('#surge-text')).toBe(
      '{author.name}さん、こちらをご覧ください {vars.helpUrl}',
    );
    expect(await page.textContent('#surge-length')).toMatch(/X: 最長 \d+ \/ 280/u);

    await page.fill('#surge-text', `{author.name}さん、${'あ'.repeat(150)}`);
    await expect.poll(() => page.textContent('#surge-length'), { timeout: 10_000 }).toContain('長すぎて');
    expect(await page.textContent('#surge-length')).toBe(
      'Mastodon: 最長 161 / 500 · X: 最長 309 / 280（2 件は長すぎて見送り）',
    );
    expect(await page.getAttribute('#surge-text', 'aria-invalid')).toBe('true');

    await page.fill('#surge-text', '{author.name}さん、ただいま復旧作業中です。');
    await expect.poll(() => page.textContent('#surge-length'), { timeout: 10_000 }).not.toContain('長すぎて');
    expect(await page.isChecked('#surge-all')).toBe(true);
    await page.check(`input[name=matchIds][value="${members[0]?.id}"]`);
    expect(await page.isChecked('#surge-all')).toBe(false);
    await Promise.all([page.waitForNavigation(), page.click('#surge-reply button[type=submit]')]);
    expect(await page.textContent('.flash')).toContain('1 件の返信を送信待ちにしました');
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what is checked
    const shown = await page.innerText('main');
    expect(shown).toContain('返信待ち 2 · 送信待ち 1 · 送信済み 0 · 見送り 0 · 失敗 0');
    expect(await page.locator('input[name=matchIds]').count()).toBe(2);
    await page.screenshot({ path: join(SCREENSHOTS, 'surge.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 60_000);
});
