import type { MatchRecord, Repositories, SurgeMember, SurgeRecord } from '@kikimimi/db';
import {
  escalationTargets,
  MAX_SURGE_REPLIES,
  measureSurgeReply,
  replySourceOf,
  skipMessage,
} from '@kikimimi/desk';
import { type Config, type Platform, pickTemplate } from '@kikimimi/rules';
import { html } from 'hono/html';
import type { Lang } from '../context.ts';
import { addMessages, t } from '../i18n.ts';
import { atLeast, csrfField } from '../layout.ts';
import { type C, timeTag, userOf } from './inbox/shared.ts';

/*
 * A surge's page, the parts that answer people: the replies to its members (the form, and the visible
 * queue — each member queued with its time, sent with its link, left out with the reason, failed) and
 * its escalations. The decisions themselves are the surge desk's (routes/surges.ts).
 */

addMessages({
  'surges.handling.announced': { ja: '告知済み', en: 'announced' },
  'surges.handling.dismissed': { ja: '対応不要', en: 'dismissed' },
  'surges.handling.escalated': { ja: 'エスカレーション済み', en: 'escalated' },
  'surges.handling.replied': { ja: 'メンバーに返信', en: 'replied to members' },
  'surges.handling.closed': { ja: '終了', en: 'closed' },
  'surges.escalations': { ja: 'エスカレーション', en: 'Escalations' },
  'surges.escalations.none': { ja: 'まだエスカレーションしていません。', en: 'Not escalated yet.' },
  'surges.escalations.line': { ja: '{target}（{who}）', en: '{target} (by {who})' },
  'surges.escalate.target': { ja: 'エスカレーション先', en: 'Escalate to' },
  'surges.escalate': {
    ja: 'この急増をエスカレーション（担当部署に 1 回だけ通知）',
    en: 'Escalate this surge (one notification to the department)',
  },
  'surges.escalate.noTargets': {
    ja: 'エスカレーション先がありません（設定の「エスカレーション」と Discord のチャンネル）。',
    en: 'There is no escalation target (Escalation rules, and their Discord channels).',
  },
  'surges.replies': { ja: 'メンバーへの返信', en: 'Replies to the members' },
  'surges.replies.counts': {
    ja: '返信待ち {waiting} · 送信待ち {queued} · 送信済み {sent} · 見送り {skipped} · 失敗 {failed}',
    en: 'waiting {waiting} · queued {queued} · sent {sent} · skipped {skipped} · failed {failed}',
  },
  'surges.reply.template': { ja: 'テンプレート', en: 'Template' },
  'surges.reply.perMember': {
    ja: '（お客さまごとに合うご案内テンプレート）',
    en: '(each customer’s own guidance template)',
  },
  'surges.reply.useTemplate': { ja: 'このテンプレートを使う', en: 'Use this template' },
  'surges.reply.text': {
    ja: '返信の本文（{author.name} などはお客さまごとに差し込まれます）',
    en: 'The reply ({author.name} and the like are filled in for each customer)',
  },
  'surges.reply.all': { ja: '返信待ちのすべて（{count} 件）', en: 'Everyone still waiting ({count})' },
  'surges.reply.pacing': {
    ja: 'アカウントごとに {seconds} 秒に 1 件ずつ送ります（一度に最大 {max} 件）。同じ人には 1 回だけ、返信できない人（抑制・連絡間隔・1 日の上限・長すぎる本文など）は理由をつけて見送ります。',
    en: 'Sent one per {seconds} s per account (at most {max} at once). Each person once; those who may not be answered (suppressed, cooldown, daily cap, too long…) are left out with the reason.',
  },
  'surges.reply.send': { ja: '選んだメンバーに返信する', en: 'Reply to the chosen members' },
  'surges.reply.length': {
    ja: '{platform}: 最長 {length} / {limit}',
    en: '{platform}: longest {length} / {limit}',
  },
  'surges.reply.over': { ja: '（{count} 件は長すぎて見送り）', en: ' ({count} too long: left out)' },
  'surges.member.choose': { ja: '選ぶ', en: 'Choose' },
  'surges.member.state': { ja: '返信', en: 'Reply' },
  'surges.member.author': { ja: '投稿者', en: 'Author' },
  'surges.member.post': { ja: '投稿', en: 'Post' },
  'surges.member.waiting': { ja: '返信待ち', en: 'waiting' },
  'surges.member.queued': { ja: '送信待ち・送信予定', en: 'queued, goes out' },
  'surges.member.platform': { ja: 'プラットフォーム', en: 'Platform' },
  'surges.member.sending': { ja: '送信中', en: 'being sent' },
  'surges.member.sent': { ja: '送信済み', en: 'sent' },
  'surges.member.failed': { ja: '失敗: {error}', en: 'failed: {error}' },
  'surges.member.manual': { ja: '手動で投稿してください', en: 'post it by hand' },
  'surges.member.skipped': { ja: '見送り: {reason}', en: 'left out: {reason}' },
  'surges.member.dismissed': { ja: '対応不要', en: 'dismissed' },
  'surges.member.other': { ja: '{status}', en: '{status}' },
  'surges.done.reply': { ja: '{queued} 件の返信を送信待ちにしました。', en: '{queued} replies are queued.' },
  'surges.done.skipped': {
    ja: '{skipped} 件は見送りました（理由はメンバーの表に）。',
    en: '{skipped} members were left out (the reasons are in the members’ table).',
  },
  'surges.done.remaining': {
    ja: 'まだ {count} 件が返信を待っています（もう一度送ると続きに返信します）。',
    en: '{count} more are still waiting (send again to answer them).',
  },
  'surges.done.escalate': { ja: '{target} にエスカレーションしました。', en: 'Escalated to {target}.' },
});

/** What the reply form shows again after a refusal. */
export interface SurgeReplyFormState {
  readonly text: string;
  readonly templateId: string;
  readonly all: boolean;
  readonly chosen: readonly string[];
}

const PLATFORM_NAME: Readonly<Record<string, string>> = { x: 'X', mastodon: 'Mastodon', bluesky: 'Bluesky' };

/** The platform most of the surge's members are on. */
const mainPlatform = (surge: SurgeRecord): Platform =>
  (Object.entries(surge.platforms).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'x') as Platform;

/** A member waits for an answer: nobody decided on it and it has no reply. */
export const isWaiting = (m: Pick<SurgeMember, 'status' | 'reply'>) => m.status === 'new' && m.reply === null;

/** The guidance template the form starts from: the surge's watch on its main platform. */
export const defaultTemplate = (surge: SurgeRecord, config: Config) =>
  pickTemplate(config.templates, {
    platform: mainPlatform(surge),
    category: 'guidance',
    watchId: surge.watchId,
    language: undefined,
  });

/** The length line under the reply box, measured over these members as the reply will check it. */
export function lengthLine(
  c: C | Lang,
  matches: readonly MatchRecord[],
  input: { text: string; templateId: string },
  config: Config,
): { text: string; ok: boolean } {
  const source = replySourceOf(input, config);
  if ('ok' in source) return { text: '', ok: false };
  const lengths = measureSurgeReply(matches, source, config);
  const over = lengths.reduce((n, l) => n + l.over, 0);
  const text = lengths
    .map((l) =>
      t(c, 'surges.reply.length', {
        platform: PLATFORM_NAME[l.platform] ?? l.platform,
        length: l.longest,
        limit: l.limit,
      }),
    )
    .join(' · ');
  return { text: over > 0 ? `${text}${t(c, 'surges.reply.over', { count: over })}` : text, ok: over === 0 };
}

/** What became of a member's reply, in words (with the link or the time). */
function memberState(c: C, m: SurgeMember, now: Date) {
  const tz = c.get('timeZone');
  const reply = m.reply;
  if (reply !== null) {
    switch (reply.state) {
      case 'pending':
        return reply.dueAt !== null && reply.dueAt > now
          ? html`<span class="badge">${t(c, 'surges.member.queued')}</span> ${timeTag(reply.dueAt, tz)}`
          : html`<span class="badge">${t(c, 'surges.member.sending')}</span>`;
      case 'sent':
      case 'manual_done':
        return reply.url
          ? html`<a href="${reply.url}" rel="noopener noreferrer">${t(c, 'surges.member.sent')}</a>`
          : t(c, 'surges.member.sent');
      case 'failed':
        return html`<span class="error">${t(c, 'surges.member.failed', { error: reply.error ?? '' })}</span>`;
      case 'manual_pending':
        return reply.manualUrl
          ? html`<a href="${reply.manualUrl}" rel="noopener noreferrer">${t(c, 'surges.member.manual')}</a>`
          : t(c, 'surges.member.manual');
    }
  }
  if (m.status === 'dismissed') return t(c, 'surges.member.dismissed');
  if (m.skip !== null)
    return html`<span class="muted">${t(c, 'surges.member.skipped', { reason: skipMessage(m.skip, c.get('lang')) })}</span>`;
  if (m.status === 'new') return t(c, 'surges.member.waiting');
  return t(c, 'surges.member.other', { status: m.status });
}

/** The members' table: the visible queue, with a check box per member still waiting (for editors). */
export function membersTable(c: C, members: readonly SurgeMember[], now: Date, state?: SurgeReplyFormState) {
  const mayDecide = atLeast(userOf(c).role, 'editor');
  const chosen = new Set(state?.chosen ?? []);
  return html`<table><tr>${mayDecide ? html`<th>${t(c, 'surges.member.choose')}</th>` : ''}<th>${t(c, 'surges.member.state')}</th><th>${t(c, 'surges.member.platform')}</th><th>${t(c, 'surges.member.author')}</th><th>${t(c, 'surges.member.post')}</th></tr>
${members.map(
  (m) =>
    html`<tr>${
      mayDecide
        ? html`<td>${isWaiting(m) ? html`<input type="checkbox" form="surge-reply" name="matchIds" value="${m.id}" aria-label="@${m.authorHandle}"${chosen.has(m.id) ? html` checked` : ''}>` : ''}</td>`
        : ''
    }<td>${memberState(c, m, now)}</td><td>${PLATFORM_NAME[m.platform] ?? m.platform}</td><td>@${m.authorHandle}</td><td><a href="/inbox/${m.id}">${m.text}</a></td></tr>`,
)}</table>`;
}

/** The reply form: a template, the text with its live length, everyone waiting or the chosen members. */
export function replyForm(
  c: C,
  input: {
    readonly surge: SurgeRecord;
    readonly config: Config;
    readonly waiting: number;
    readonly sample: readonly MatchRecord[];
    readonly state: SurgeReplyFormState;
  },
) {
  const { surge, config, state } = input;
  const href = `/surges/${encodeURIComponent(surge.id)}`;
  const length = state.text === '' ? { text: '', ok: true } : lengthLine(c, input.sample, state, config);
  return html`<form method="get" action="${href}" class="card"><label for="surge-template">${t(c, 'surges.reply.template')}</label>
<select id="surge-template" name="template"><option value=""${state.templateId === '' ? html` selected` : ''}>${t(c, 'surges.reply.perMember')}</option>${config.templates.map(
    (tpl) =>
      html`<option value="${tpl.id}"${tpl.id === state.templateId ? html` selected` : ''}>${tpl.name ?? tpl.id} (${tpl.category}, ${tpl.platform})</option>`,
  )}</select> <button type="submit" class="secondary">${t(c, 'surges.reply.useTemplate')}</button></form>
<form method="post" action="${href}/reply" id="surge-reply">${csrfField(c)}
<input type="hidden" name="templateId" value="${state.templateId}">
<label for="surge-text">${t(c, 'surges.reply.text')}</label>
<textarea id="surge-text" name="text" rows="5" maxlength="10000" data-surge="${surge.id}" aria-describedby="surge-length">${state.text}</textarea>
<p id="surge-length" class="muted"><small class="length${length.ok ? '' : ' over'}" aria-live="polite">${length.text}</small></p>
<label><input type="checkbox" name="all" value="on" id="surge-all"${state.all ? html` checked` : ''}> ${t(c, 'surges.reply.all', { count: input.waiting })}</label>
<p class="muted"><small>${t(c, 'surges.reply.pacing', { seconds: config.surges.replyIntervalSeconds, max: MAX_SURGE_REPLIES })}</small></p>
<p><button type="submit">${t(c, 'surges.reply.send')}</button></p></form>`;
}

/** The escalation part: where it went, and (for editors) the form. */
export function escalationSection(
  c: C,
  input: {
    readonly surge: SurgeRecord;
    readonly config: Config;
    readonly settings: Awaited<ReturnType<Repositories['discord']['get']>>;
    readonly escalations: Awaited<ReturnType<Repositories['surges']['escalations']>>;
  },
) {
  const tz = c.get('timeZone');
  const mayDecide = atLeast(userOf(c).role, 'editor');
  const { targets } = escalationTargets({ decision: { escalations: [] } }, input.config, input.settings);
  const done = new Set(input.escalations.map((e) => e.target));
  const open = targets.filter((target) => !done.has(target));
  return html`<h2>${t(c, 'surges.escalations')}</h2>
${
  input.escalations.length === 0
    ? html`<p class="muted">${t(c, 'surges.escalations.none')}</p>`
    : html`<ul>${input.escalations.map((e) => html`<li>${t(c, 'surges.escalations.line', { target: e.target, who: e.createdBy.name || e.createdBy.id })} ${timeTag(e.createdAt, tz)}</li>`)}</ul>`
}
${
  !mayDecide
    ? ''
    : targets.length === 0
      ? html`<p class="muted">${t(c, 'surges.escalate.noTargets')}</p>`
      : html`<form method="post" action="/surges/${encodeURIComponent(input.surge.id)}/escalate" class="card">${csrfField(c)}<label for="surge-target">${t(c, 'surges.escalate.target')}</label>
<select id="surge-target" name="target">${(open.length > 0 ? open : targets).map((target) => html`<option value="${target}">${target}</option>`)}</select>
<p><button type="submit" class="danger">${t(c, 'surges.escalate')}</button></p></form>`
}`;
}

/**
 * The surge page's script: the reply box's length line follows the typing (measured by the server the
 * way the reply checks it: /api/surges/:id/measure), and choosing a member unticks "everyone waiting".
 */
export const SURGE_SCRIPT = `(function(){
var area=document.getElementById('surge-text');var out=document.querySelector('#surge-length .length');
var csrfInput=document.querySelector('#surge-reply input[name=_csrf]');var all=document.getElementById('surge-all');
var tpl=document.querySelector('#surge-reply input[name=templateId]');
document.querySelectorAll('input[name=matchIds]').forEach(function(box){box.addEventListener('change',function(){if(box.checked&&all)all.checked=false})});
if(!area||!out||!csrfInput)return;var seq=0;var timer;
function run(){var n=++seq;fetch('/api/surges/'+encodeURIComponent(area.getAttribute('data-surge'))+'/measure',{method:'POST',credentials:'same-origin',headers:{'content-type':'application/json','x-csrf-token':csrfInput.value,accept:'application/json'},body:JSON.stringify({text:area.value,templateId:tpl?tpl.value:''})}).then(function(r){return r.json()}).then(function(m){
if(n!==seq||typeof m.text!=='string')return;out.textContent=m.text;out.classList.toggle('over',!m.ok);
if(!m.ok)area.setAttribute('aria-invalid','true');else area.removeAttribute('aria-invalid')}).catch(function(){})}
area.addEventListener('input',function(){clearTimeout(timer);timer=setTimeout(run,150)});
})();`;

/** The handling marks in words. */
export const handlingText = (c: C, surge: Pick<SurgeRecord, 'handling'>) =>
  surge.handling.map((h) => t(c, `surges.handling.${h}`)).join(', ') || '—';
