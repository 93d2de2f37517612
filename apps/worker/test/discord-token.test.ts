import { Writable } from 'node:stream';
import { createLogger } from '@kikimimi/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestWorld, type TestWorld, waitFor } from './world.ts';

let world: TestWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const WRONG_TOKEN = 'MTIz.wrong-token.that-discord-refuses';

describe('a DISCORD_TOKEN that Discord refuses (the Discord stand-in)', () => {
  it('says so once, clearly and without the token, and backs off instead of retrying every second', async () => {
    world = await createTestWorld();
    const w = world;
    let logged = '';
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        logged += String(chunk);
        callback();
      },
    });
    await w.startWorker({
      discord: { token: WRONG_TOKEN, api: w.discord.apiUrl },
      log: createLogger({ name: 'test', level: 'info', destination }),
    });
    const logins = () => w.discord.requests().filter((r) => r.path.endsWith('/gateway/bot'));
    await waitFor(() => logins().length >= 1, 15_000, 'a first login');
    const first = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    // 1 s, 2 s, 4 s … between attempts: at most 4 in these 8 s (every second: 8 or more).
    expect(logins().length).toBeLessThanOrEqual(5);
    expect(logins().every((r) => r.status === 401)).toBe(true);
    const lines = logged
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg: string; error?: string });
    const refused = lines.filter((line) => /refused the bot token/u.test(line.error ?? ''));
    expect(refused).toHaveLength(1);
    expect(refused[0]?.level).toBe(50);
    expect(refused[0]?.error).toMatch(/DISCORD_TOKEN/u);
    expect(refused[0]?.error).toMatch(/Reset Token/u);
    expect(logged).not.toContain(WRONG_TOKEN);
    expect(Date.now() - first).toBeGreaterThanOrEqual(8_000);
  }, 60_000);
});
