import type { SurgeRecord } from '@kikimimi/db';
import { describe, expect, it } from 'vitest';
import { CUSTOM_ID_MAX } from './review-message.ts';
import { buildSurgeMessage, parseSurgeCustomId, surgeIds } from './surge-message.ts';

const UUID = '7d4f0a52-3b1e-4c9a-9f0e-2a6b8c1d5e70';
const SURGE_ID = `surge:${UUID}`;
const surge = (status: 'open' | 'closed' = 'open'): SurgeRecord => ({
  id: SURGE_ID,
  watchId: 'brand',
  status,
  detectedAt: new Date('2026-12-05T01:00:00Z'),
  firstAt: new Date('2026-12-05T00:58:00Z'),
  lastAt: new Date('2026-12-05T01:05:00Z'),
  count: 120,
  intents: { trouble: 120 },
  platforms: { x: 80, mastodon: 40 },
  examples: [{ id: 'm1', text: 'ログインできない' }],
  perMinute: [],
  handling: ['replied', 'escalated'],
  closedAt: null,
  closedBy: null,
  channelId: null,
  messageId: null,
});
const customIds = (message: ReturnType<typeof buildSurgeMessage>) =>
  message.components.flatMap((row) => row.components.map((c) => ('custom_id' in c ? c.custom_id : '')));

describe("a surge's message", () => {
  it('offers reply, announce, escalate, dismiss and (while open) close, and counts the replies to its members', () => {
    const message = buildSurgeMessage(surge(), [], 'ja', {
      replies: { waiting: 3, queued: 40, sent: 70, failed: 1, skipped: 6 },
      escalations: [
        { target: 'engineering', createdBy: { kind: 'web', id: 'u', name: 'u' }, createdAt: new Date() },
      ],
    });
    expect(customIds(message)).toEqual(['r', 'a', 'e', 'd', 'c'].map((a) => `kks:${a}:${UUID}`));
    const text = JSON.stringify(message.embeds);
    expect(text).toContain('返信待ち 3 · 送信待ち 40 · 送信済み 70 · 見送り 6 · 失敗 1');
    expect(text).toContain('エスカレーション先: engineering');
    expect(customIds(buildSurgeMessage(surge('closed'), [], 'en'))).toHaveLength(4);
    // Nothing to count yet: no replies line.
    expect(JSON.stringify(buildSurgeMessage(surge(), [], 'en').embeds)).not.toContain('queued');
  });

  it('names its watch as the configuration does, with the id beside it', () => {
    const field = (message: ReturnType<typeof buildSurgeMessage>) =>
      message.embeds[0]?.fields?.find((f) => f.name === 'ウォッチ')?.value;
    expect(field(buildSurgeMessage(surge(), [], 'ja', { watchName: 'しおりノート' }))).toBe(
      'しおりノート (brand)',
    );
    // No name (or a watch no longer configured): its id.
    expect(field(buildSurgeMessage(surge(), [], 'ja'))).toBe('brand');
    expect(field(buildSurgeMessage(surge(), [], 'ja', { watchName: 'brand' }))).toBe('brand');
  });

  it('reads back its custom ids, an escalation target with its colons, and nothing else', () => {
    expect(parseSurgeCustomId(`kks:r:${UUID}`)).toEqual({ action: 'r', surgeId: SURGE_ID });
    expect(parseSurgeCustomId(`kks:et:${UUID}:billing:eu`)).toEqual({
      action: 'et',
      surgeId: SURGE_ID,
      target: 'billing:eu',
    });
    expect(parseSurgeCustomId(`kks:et:${UUID}`)).toBeNull();
    expect(parseSurgeCustomId(`kks:r:${UUID}:extra`)).toBeNull();
    expect(parseSurgeCustomId(`kks:x:${UUID}`)).toBeNull();
    expect(parseSurgeCustomId(`kk:r:${UUID}`)).toBeNull();
    expect(surgeIds.escalateTo(SURGE_ID, 'billing')).toBe(`kks:et:${UUID}:billing`);
    const room = CUSTOM_ID_MAX - `kks:et:${UUID}:`.length;
    expect(surgeIds.escalateTo(SURGE_ID, 'a'.repeat(room))).not.toBeNull();
    expect(surgeIds.escalateTo(SURGE_ID, 'a'.repeat(room + 1))).toBeNull();
  });
});
