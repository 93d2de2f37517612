import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.ts';

/* conversations.digest: the scheduled digest of voices and effect figures. */

describe('conversations.digest', () => {
  it('is off by default, for the review channel at 9:00', () => {
    const result = loadConfig({});
    expect(result.ok && result.config.conversations.digest).toEqual({
      every: 'off',
      channel: 'review',
      hour: 9,
    });
    const partial = loadConfig({ conversations: { followDays: 3 } });
    expect(partial.ok && partial.config.conversations.digest.every).toBe('off');
  });

  it('takes daily or weekly, a channel and an hour', () => {
    const result = loadConfig({
      conversations: { digest: { every: 'weekly', channel: ' voices ', hour: 0 } },
    });
    expect(result.ok && result.config.conversations.digest).toEqual({
      every: 'weekly',
      channel: 'voices',
      hour: 0,
    });
  });

  it.each([
    [{ every: 'monthly' }, 'conversations.digest.every'],
    [{ hour: 24 }, 'conversations.digest.hour'],
    [{ hour: 8.5 }, 'conversations.digest.hour'],
    [{ channel: '  ' }, 'conversations.digest.channel'],
  ])('refuses %j at %s', (digest, path) => {
    const result = loadConfig({ conversations: { digest } });
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual([path]);
  });
});
