/**
 * Renders a review message exactly as the worker builds it (buildReviewMessage) into a Discord-like
 * page and screenshots it with Chromium, for the README: docs/screenshots/discord-review.png.
 *
 *   node apps/worker/scripts/review-screenshot.ts
 */
import { fileURLToPath } from 'node:url';
import type { MatchRecord, ReplyRecord } from '@kikimimi/db';
import { loadConfig, postSchema } from '@kikimimi/rules';
import { chromium } from 'playwright-core';
import { buildReviewMessage } from '../src/discord/review-message.ts';

const OUT = fileURLToPath(new URL('../../../docs/screenshots/discord-review.png', import.meta.url));
const config = JSON.parse(
  await (await import('node:fs/promises')).readFile(
    new URL('../../../docs/examples/shiori-note.json', import.meta.url),
    'utf8',
  ),
);
const loaded = loadConfig(config);
if (!loaded.ok) throw new Error('example configuration does not load');
const post = postSchema.parse({
  platform: 'x',
  id: '1860000000000000004',
  url: 'https://x.com/taro_yamada/status/1860000000000000004',
  author: { id: '42', handle: 'taro_yamada', displayName: '山田太郎', followers: 1280 },
  text: 'しおりノートって解約どこからできるんだろう？二重請求されてる気がする…',
  lang: 'ja',
  createdAt: '2026-11-24T09:10:00+09:00',
});
const decision = loaded.engine.decide(post, { now: new Date('2026-11-24T09:12:00+09:00') });
if (!decision.matched) throw new Error('the sample post does not match');
const match = {
  id: '6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f',
  platform: 'x',
  postId: post.id,
  accountId: null,
  post,
  decision,
  status: 'new',
  priority: decision.route.priority,
  suppressed: false,
  escalated: decision.escalations.length > 0,
  createdAt: new Date(),
  firstResponseAt: null,
  caseState: 'open',
  assignee: null,
} as unknown as MatchRecord;
// An earlier post of the same person on Mastodon (the same handle), answered three weeks before.
const earlierAt = new Date('2026-11-03T10:00:00+09:00');
const earlier = {
  ...match,
  id: '0b1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f',
  platform: 'mastodon',
  postId: '109',
  post: {
    ...post,
    platform: 'mastodon',
    id: '109',
    author: { ...post.author, id: '9', handle: 'taro@mstdn.example' },
    text: 'しおりノートの同期が止まった…',
  },
  status: 'replied',
  createdAt: earlierAt,
} as unknown as MatchRecord;
const message = buildReviewMessage({
  match,
  history: [
    {
      match: earlier,
      replies: [{ state: 'sent', seq: 1, sentAt: earlierAt } as unknown as ReplyRecord],
      relation: 'same_name',
    },
  ],
  cooldown: {
    last: { at: earlierAt, platform: 'mastodon', handle: 'taro@mstdn.example' },
    hours: 72,
    now: new Date('2026-11-24T09:12:00+09:00'),
  },
  decisions: [],
  reply: null,
  lang: 'ja',
});

const esc = (s: string) =>
  s.replace(/[&<>"]/gu, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
const md = (s: string) =>
  esc(s.replace(/\\(.)/gu, '$1').replace(/\u200b/gu, '')).replace(/&lt;t:(\d+):[a-zA-Z]&gt;/gu, (_, t) =>
    new Date(Number(t) * 1000).toLocaleDateString('ja-JP'),
  );
const embed = message.embeds[0] ?? {};
const colour = `#${(embed.color ?? 0).toString(16).padStart(6, '0')}`;
const fields = (embed.fields ?? [])
  .map(
    (f) =>
      `<div class="field ${f.inline ? 'inline' : ''}"><div class="fname">${md(f.name)}</div><div>${md(f.value).replace(/\n/gu, '<br>')}</div></div>`,
  )
  .join('');
const buttons = message.components
  .map(
    (row) =>
      `<div class="row">${row.components
        .map((b) => {
          const button = b as { style: number; label?: string };
          const style =
            (
              { 1: 'primary', 2: 'secondary', 3: 'success', 4: 'danger', 5: 'link' } as Record<number, string>
            )[button.style] ?? 'secondary';
          return `<span class="btn ${style}">${esc(button.label ?? '')}${style === 'link' ? ' ↗' : ''}</span>`;
        })
        .join('')}</div>`,
  )
  .join('');
const html = `<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#313338;color:#dbdee1;font:15px/1.4 "Noto Sans CJK JP","Noto Sans JP",system-ui,sans-serif;padding:20px;width:760px}
.msg{display:flex;gap:14px}.avatar{width:40px;height:40px;border-radius:50%;background:#5865f2;display:flex;align-items:center;justify-content:center;color:#fff;font-weight:700}
.name{color:#fff;font-weight:600}.bot{background:#5865f2;color:#fff;font-size:10px;border-radius:3px;padding:1px 4px;margin-left:4px}.time{color:#949ba4;font-size:12px;margin-left:6px}
.embed{margin-top:6px;background:#2b2d31;border-left:4px solid ${colour};border-radius:4px;padding:10px 14px;max-width:620px}
.author{font-size:13px;color:#fff;font-weight:600}.title{color:#00a8fc;font-weight:600;margin:4px 0}.desc{white-space:pre-wrap;margin:6px 0}
.fields{display:flex;flex-wrap:wrap;gap:8px 16px;margin-top:8px}.field{flex-basis:100%}.field.inline{flex-basis:28%}.fname{font-weight:700;color:#fff;font-size:13px}
.row{display:flex;gap:8px;margin-top:8px}.btn{padding:6px 14px;border-radius:4px;font-size:14px;color:#fff}.primary{background:#5865f2}.secondary{background:#4e5058}.danger{background:#da373c}.success{background:#248046}.link{background:#4e5058}
</style></head><body><div class="msg"><div class="avatar">聞</div><div><span class="name">kikimimi</span><span class="bot">APP</span><span class="time">今日 9:12</span>
<div class="embed"><div class="author">${esc(embed.author?.name ?? '')}</div><div class="title">${esc(embed.title ?? '')}</div><div class="desc">${md(embed.description ?? '')}</div><div class="fields">${fields}</div></div>
${buttons}</div></div></body></html>`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 800, height: 600 }, deviceScaleFactor: 1 });
await page.setContent(html);
await page.screenshot({ path: OUT, fullPage: true });
await browser.close();
console.log(`wrote ${OUT}`);
