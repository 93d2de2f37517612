import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';

const CHROMIUM = process.env.KIKIMIMI_CHROMIUM ?? '/usr/bin/chromium';

/** In a real browser: the CSP lets exactly our own inline style and script run, and nothing breaks. */
describe.skipIf(!existsSync(CHROMIUM))('CSP in a browser', () => {
  let t: TestApp;
  let server: ReturnType<typeof serve>;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    t = await createTestApp();
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

  it('sets up, styles every page, runs the confirmation script, and reports no violation', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 404/u.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${base}/?lang=en`);
    expect(new URL(page.url()).pathname).toBe('/setup');
    // The layout's <style> ran: the header is white, not transparent.
    // (Browser-side code as strings: this project compiles without the DOM library.)
    expect(await page.evaluate('getComputedStyle(document.querySelector("header")).backgroundColor')).toBe(
      'rgb(255, 255, 255)',
    );
    await page.fill('#f-username', 'admin');
    await page.fill('#f-password', 'a long admin password');
    await page.fill('#f-confirm', 'a long admin password');
    await page.click('form[action="/setup"] button[type=submit]');
    await page.waitForURL(/\/inbox$/u);

    await t.createUser('viewer', { username: 'someone' });
    await page.goto(`${base}/users`);
    const dialogs: string[] = [];
    page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss(); // "no": nothing is removed
    });
    await page.click('tr:has-text("someone") form[action$="/remove"] button');
    expect(dialogs).toEqual(['Remove someone? This cannot be undone.']);
    expect((await t.repos.users.list()).map((u) => u.username)).toContain('someone');

    // An injected inline script (no nonce) would not run: prove the policy is enforced at all.
    const blocked = await page.evaluate(`(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__injected = true';
      document.body.append(script);
      return window.__injected === true;
    })()`);
    expect(blocked).toBe(false);
    expect(problems.filter((p) => !/__injected|Content Security Policy/u.test(p))).toEqual([]);
    expect(problems.some((p) => /Content Security Policy/u.test(p))).toBe(true); // only the injected one
    expect(problems.filter((p) => /Content Security Policy/u.test(p))).toHaveLength(1);

    await page.click('form[action="/logout"] button');
    await page.waitForURL(/\/login$/u);
  }, 60_000);
});
