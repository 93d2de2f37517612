import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { measureReply } from '@kikimimi/rules';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';

const CHROMIUM = process.env.KIKIMIMI_CHROMIUM ?? '/usr/bin/chromium';

/** The two inline scripts of the configuration pages, in a real browser under the CSP. */
describe.skipIf(!existsSync(CHROMIUM))('configuration pages in a browser', () => {
  let t: TestApp;
  let server: ReturnType<typeof serve>;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    t = await createTestApp();
    await t.repos.config.replace(
      {
        variables: { helpUrl: 'https://help.example.com/' },
        watches: [{ id: 'brand', name: 'ブクログ', query: 'ブクログ' }],
      },
      { kind: 'system', id: 'test', name: 'test' },
    );
    await new Promise<void>((resolve) => {
      server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
        base = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await t?.close();
  });

  async function signedIn(): Promise<{ page: Page; problems: string[] }> {
    const session = await t.login('editor');
    const context = await browser.newContext();
    const [name, value] = session.cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, url: base }]);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      // The browser asks for /favicon.ico, which the console does not serve.
      if (message.type() === 'error' && !/status of 404/u.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return { page, problems };
  }

  it('checks a watch query while typing and marks where the error is', async () => {
    const { page, problems } = await signedIn();
    await page.goto(`${base}/watches/new?lang=en`);
    // The page's own <style> ran under the CSP.
    expect(await page.evaluate('getComputedStyle(document.querySelector(".row")).display')).toBe('flex');
    await page.fill('#f-query', 'ブクログ (ログイン OR');
    await page.waitForSelector('#query-status .error');
    expect(await page.textContent('#query-status .error')).toMatch(/\(line 1, column \d+\)$/u);
    expect(await page.getAttribute('#f-query', 'aria-invalid')).toBe('true');
    expect(await page.textContent('#query-status mark')).not.toBe('');
    await page.fill('#f-query', 'ブクログ (ログイン OR サインイン)');
    await page.waitForSelector('#query-status .ok');
    expect(await page.textContent('#query-status')).toBe('Syntax OK');
    expect(problems).toEqual([]);
  }, 60_000);

  it('after a refused save, drops the old query error once the query is edited and checks out', async () => {
    const { page, problems } = await signedIn();
    await page.goto(`${base}/watches/new`);
    await page.fill('#f-id', 'refused');
    await page.fill('#f-query', 'ブクログ (ログイン OR');
    await page.click('button[value="save"]');
    await page.waitForSelector('#field-query .error');
    await page.fill('#f-query', 'ブクログ (ログイン OR サインイン)');
    await page.waitForSelector('#query-status .ok');
    expect(await page.textContent('#query-status')).toBe('Syntax OK');
    // Only the new verdict is shown: no error about the old text next to "Syntax OK".
    expect(await page.locator('#field-query .error').count()).toBe(0);
    expect(await page.getAttribute('#f-query', 'aria-invalid')).toBeNull();
    // (The refused save itself answered 422, which the browser logs.)
    expect(problems.filter((p) => !/status of 422/u.test(p))).toEqual([]);
  }, 60_000);

  it('counts a template’s length the platform’s way while typing', async () => {
    const { page, problems } = await signedIn();
    await page.goto(`${base}/templates/new?platform=x&lang=en`);
    const text = '{author.name}さん、こちらをご覧ください {vars.helpUrl}';
    await page.fill('#f-text', text);
    const rendered = '山田 花子さん、こちらをご覧ください https://help.example.com/';
    const expected = `X: ${measureReply(rendered, 'x').length} / 280`;
    await expect
      .poll(() => page.textContent('#template-counter .counter'), { timeout: 10_000 })
      .toBe(expected);
    expect(await page.textContent('#template-counter pre')).toBe(rendered);
    await page.fill('#f-text', `${'あ'.repeat(141)}`);
    await page.waitForSelector('#template-counter .counter.over');
    expect(await page.textContent('#template-counter .counter')).toBe('X: 282 / 280');
    await page.fill('#f-text', 'こんにちは {author.nmae}');
    await page.waitForSelector('#template-counter .error');
    expect(await page.textContent('#template-counter .error')).toMatch(/did you mean \{author\.name\}/u);
    expect(problems).toEqual([]);
  }, 60_000);
});
