import type { CaseEvent, CaseState, CustomerCase, ReplyRecord, ReviewDecision, User } from '@kikimimi/db';
import { html } from 'hono/html';
import { clockText } from '../../format.ts';
import { addMessages, t } from '../../i18n.ts';
import { atLeast, csrfField, type FieldErrors, fieldError, type Html } from '../../layout.ts';
import { CASE_STATES } from './filters.ts';
import { type C, label, timeTag, zonedText } from './shared.ts';

/*
 * The case on the match page: the conversation with this person in time order (their post, our
 * replies, their answers with how kikimimi read them, likes and reposts, teammates' notes, decisions,
 * assignments and state changes), the forms that move it (follow-up, note, assign, state), and the
 * customer's history with the cooldown's state in words. Rendered on the server; the forms work
 * without JavaScript.
 */

addMessages({
  'case.title': { ja: '会話', en: 'Conversation' },
  'case.state': { ja: 'ケースの状態', en: 'Case state' },
  'case.state.open': { ja: '対応中', en: 'Open' },
  'case.state.waiting': { ja: 'お客様の返事待ち', en: 'Waiting for the customer' },
  'case.state.resolved': { ja: '解決済み', en: 'Resolved' },
  'case.assignee': { ja: '担当者', en: 'Assignee' },
  'case.nobody': { ja: '未割り当て', en: 'Nobody' },
  'case.followUntil': { ja: '{at} まで返事を追跡', en: 'Answers followed until {at}' },
  'case.theirPost': { ja: 'お客様の投稿', en: 'Their post' },
  'case.ourReply': { ja: '返信（{n} 通目）', en: 'Our reply (#{n})' },
  'case.followUpTo': { ja: 'この返事への返信: {handle}', en: 'In answer to {handle}' },
  'case.answer': { ja: 'お客様の返事', en: 'Their answer' },
  'case.reading': { ja: '読み取り', en: 'Reading' },
  'case.reading.thanks': { ja: 'お礼', en: 'Thanks' },
  'case.reading.unhappy': { ja: 'まだ不満', en: 'Still unhappy' },
  'case.reading.question': { ja: '新しい質問', en: 'New question' },
  'case.reading.other': { ja: 'その他', en: 'Other' },
  'case.like': { ja: '{handle} さんが返信にいいねしました', en: '{handle} liked our reply' },
  'case.repost': { ja: '{handle} さんが返信をリポストしました', en: '{handle} reposted our reply' },
  'case.note': { ja: '社内メモ', en: 'Internal note' },
  'case.assigned': { ja: '{who} が {to} に割り当てました', en: '{who} assigned it to {to}' },
  'case.unassigned': { ja: '{who} が担当を外しました', en: '{who} removed the assignee' },
  'case.stateChanged': { ja: '{who} が状態を「{state}」にしました', en: '{who} set the state to "{state}"' },
  'case.stateAuto': { ja: '状態が「{state}」になりました', en: 'The state became "{state}"' },
  'case.decision': { ja: '{who}: {what}', en: '{who}: {what}' },
  'case.open': { ja: '開く', en: 'Open' },
  'case.sendAgain': { ja: 'もう一度送信する', en: 'Send again' },
  'case.empty': { ja: 'まだ何もありません。', en: 'Nothing yet.' },

  'case.followUp.title': { ja: 'お客様の返事に返信する', en: 'Answer the customer' },
  'case.followUp.answer': { ja: '返信する相手の投稿', en: 'Answer to' },
  'case.followUp.latest': { ja: '最新の返事', en: 'latest' },
  'case.followUp.send': { ja: '返信を送る', en: 'Send the follow-up' },
  'case.followUp.notYet': {
    ja: 'お客様の返事が届くと、ここから返信できます。',
    en: 'Once the customer answers, you can reply to them here.',
  },
  'case.note.title': { ja: '社内メモを残す', en: 'Leave an internal note' },
  'case.note.label': { ja: 'メモ（公開されません）', en: 'Note (never posted publicly)' },
  'case.note.send': { ja: 'メモを保存', en: 'Save the note' },
  'case.assign.title': { ja: '担当', en: 'Assign' },
  'case.assign.to': { ja: '担当者', en: 'Assign to' },
  'case.assign.me': { ja: '自分（{name}）', en: 'Me ({name})' },
  'case.assign.take': { ja: '自分が担当する', en: 'Take it' },
  'case.assign.send': { ja: '割り当てる', en: 'Assign' },
  'case.stateForm.title': { ja: '状態を変える', en: 'Change the state' },
  'case.stateForm.send': { ja: '変更する', en: 'Change' },

  'case.history.title': { ja: 'このお客様とのこれまで', en: 'This customer’s history' },
  'case.history.none': { ja: 'これまでのマッチはありません。', en: 'No earlier match.' },
  'case.history.sameName': {
    ja: '{platform} の同じハンドル名（別の人の可能性があります）',
    en: 'same handle on {platform} (could be someone else)',
  },
  'case.history.noReply': { ja: '返信なし', en: 'not answered' },
  'case.history.linked': { ja: '関連付けたアカウント', en: 'linked account' },
  'case.link.title': { ja: '別のプラットフォームの同じお客様', en: 'The same customer on another platform' },
  'case.link.platform': { ja: 'プラットフォーム', en: 'Platform' },
  'case.link.handle': { ja: 'ハンドル（@name や name@instance）', en: 'Handle (@name or name@instance)' },
  'case.link.send': { ja: '関連付ける', en: 'Link' },
  'case.history.replies': { ja: '返信 {n} 件', en: '{n} replies' },
  'case.cooldown.never': {
    ja: 'この件より前に、このお客様へ返信したことはありません。',
    en: 'Before this case, we had never replied to this customer.',
  },
  'case.cooldown.replied': { ja: '{ago}に返信しました（{at}）。', en: 'We replied {ago} ({at}).' },
  'case.cooldown.active': {
    ja: 'クールダウン中: {until} まで新しい投稿は抑制されます（{hours} 時間）。',
    en: 'Cooldown: new posts are suppressed until {until} ({hours} h).',
  },
  'case.cooldown.over': {
    ja: 'クールダウン（{hours} 時間）は終わっています。',
    en: 'The cooldown ({hours} h) is over.',
  },
  'case.cooldown.off': { ja: 'クールダウンは設定されていません。', en: 'No cooldown is set.' },
  'case.ago.now': { ja: 'たった今', en: 'just now' },
  'case.ago.minutes': { ja: '{n} 分前', en: '{n} minutes ago' },
  'case.ago.hours': { ja: '{n} 時間前', en: '{n} hours ago' },
  'case.ago.days': { ja: '{n} 日前', en: '{n} days ago' },
  'case.ago.weeks': { ja: '{n} 週間前', en: '{n} weeks ago' },
  'case.ago.months': { ja: '{n} か月前', en: '{n} months ago' },
  'case.ago.years': { ja: '{n} 年前', en: '{n} years ago' },
  'case.ago.minute': { ja: '1 分前', en: 'a minute ago' },
  'case.ago.hour': { ja: '1 時間前', en: 'an hour ago' },
  'case.ago.day': { ja: '1 日前', en: 'a day ago' },
  'case.ago.week': { ja: '1 週間前', en: 'a week ago' },
  'case.ago.month': { ja: '1 か月前', en: 'a month ago' },
  'case.ago.year': { ja: '1 年前', en: 'a year ago' },
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "3 weeks ago" / "3 週間前": how long ago, in whole units (rounded down), in `lang`. */
export function agoText(c: C | 'ja' | 'en', ms: number): string {
  const units: ReadonlyArray<[string, number]> = [
    ['year', 365 * DAY],
    ['month', 30 * DAY],
    ['week', 7 * DAY],
    ['day', DAY],
    ['hour', HOUR],
    ['minute', MINUTE],
  ];
  for (const [unit, size] of units) {
    const n = Math.floor(ms / size);
    if (n >= 1) return n === 1 ? t(c, `case.ago.${unit}`) : t(c, `case.ago.${unit}s`, { n });
  }
  return t(c, 'case.ago.now');
}

/** What the case page needs besides the match (loaded with it, see views.ts loadDetail). */
export interface CaseData {
  readonly replies: readonly ReplyRecord[];
  readonly events: readonly CaseEvent[];
  readonly users: readonly Pick<User, 'id' | 'username' | 'role'>[];
  readonly history: readonly CustomerCase[];
  /** This person's latest contact before this case (any platform, the cooldown's keys), if any. */
  readonly lastContact: { readonly at: Date; readonly platform: string; readonly handle: string } | null;
  readonly cooldownHours: number;
}

export const caseStateBadge = (c: C, state: CaseState) =>
  html`<span class="badge case-${state}" data-case-state="${state}">${label(c, 'case.state', state)}</span>`;

const who = (actor: { readonly name: string; readonly id: string } | null) =>
  actor === null ? '' : actor.name || actor.id;

/** One entry of the thread, at its time. */
interface Entry {
  readonly at: Date;
  readonly order: number;
  readonly body: Html;
}

function replyEntry(c: C, matchId: string, reply: ReplyRecord, editor: boolean): Html {
  const link = reply.url && /^https?:\/\//iu.test(reply.url) ? reply.url : null;
  const manual = reply.manualUrl && /^https?:\/\//iu.test(reply.manualUrl) ? reply.manualUrl : null;
  return html`<li class="ev ours" data-entry="reply" data-reply-id="${reply.id}" data-seq="${reply.seq}">
<div class="ev-head"><strong>${t(c, 'case.ourReply', { n: reply.seq })}</strong> <span class="badge" data-reply-state="${reply.state}">${label(c, 'inbox.reply.state', reply.state)}</span> <small class="muted">${who(reply.createdBy)} · ${timeTag(reply.createdAt, c.get('timeZone'))}</small></div>
${reply.target ? html`<div><small class="muted">${t(c, 'case.followUpTo', { handle: `@${reply.target.authorHandle}` })}</small></div>` : ''}
<div class="post-text">${reply.text}</div>
${link ? html`<a href="${link}" rel="noopener noreferrer" target="_blank">${t(c, 'inbox.reply.link')}</a>` : ''}
${manual && reply.state === 'manual_pending' ? html` <a href="${manual}" rel="noopener noreferrer" target="_blank">${t(c, 'inbox.reply.manualLink')}</a>` : ''}
${reply.error ? html`<div class="error">${reply.error}</div>` : ''}
${
  editor && reply.state === 'failed'
    ? html`<form method="post" action="/inbox/${matchId}/retry" class="inline">${csrfField(c)}<input type="hidden" name="replyId" value="${reply.id}"><button type="submit" class="secondary" data-retry="${reply.id}">${t(c, 'case.sendAgain')}</button></form>`
    : ''
}</li>`;
}

function eventEntry(c: C, event: CaseEvent): Html {
  const at = timeTag(event.at, c.get('timeZone'));
  const link = event.url && /^https?:\/\//iu.test(event.url) ? event.url : null;
  const handle = event.authorHandle ? `@${event.authorHandle}` : '';
  switch (event.kind) {
    case 'answer': {
      const reading = event.reading;
      return html`<li class="ev theirs" data-entry="answer" data-event-id="${event.id}"${reading ? html` data-reading="${reading.kind}"` : ''}>
<div class="ev-head"><strong>${t(c, 'case.answer')}</strong> ${handle} <small class="muted">${at}</small>${
        reading
          ? html` <span class="badge reading-${reading.kind}" title="${t(c, 'case.reading')}">${label(c, 'case.reading', reading.kind)}</span>${
              reading.signals.length > 0
                ? html` <small class="muted" title="${t(c, 'inbox.signals')}">${reading.signals.join(', ')}</small>`
                : ''
            }`
          : ''
      }</div>
<div class="post-text">${event.text}</div>
${link ? html`<a href="${link}" rel="noopener noreferrer" target="_blank">${t(c, 'inbox.postLink')}</a>` : ''}</li>`;
    }
    case 'like':
    case 'repost':
      return html`<li class="ev theirs small" data-entry="${event.kind}" data-event-id="${event.id}">${t(c, `case.${event.kind}`, { handle })} <small class="muted">${at}</small></li>`;
    case 'note':
      return html`<li class="ev note" data-entry="note" data-event-id="${event.id}">
<div class="ev-head"><strong>${t(c, 'case.note')}</strong> <small class="muted">${who(event.actor)} · ${at}</small></div>
<div class="post-text">${event.text}</div></li>`;
    case 'assigned': {
      const to = event.detail.assignee as { name?: string; id?: string } | null | undefined;
      const text =
        to?.id === undefined
          ? t(c, 'case.unassigned', { who: who(event.actor) })
          : t(c, 'case.assigned', { who: who(event.actor), to: to.name || to.id });
      return html`<li class="ev small" data-entry="assigned" data-event-id="${event.id}">${text} <small class="muted">${at}</small></li>`;
    }
    case 'state': {
      const state = String(event.detail.state ?? '');
      const actor = event.actor;
      const text =
        actor === null || actor.kind === 'system'
          ? t(c, 'case.stateAuto', { state: label(c, 'case.state', state) })
          : t(c, 'case.stateChanged', { who: who(actor), state: label(c, 'case.state', state) });
      return html`<li class="ev small" data-entry="state" data-event-id="${event.id}">${text} <small class="muted">${at}</small></li>`;
    }
    default:
      return html`<li class="ev small" data-entry="${event.kind}">${event.text} <small class="muted">${at}</small></li>`;
  }
}

function decisionEntry(c: C, d: ReviewDecision): Html {
  const detail = d.detail as Record<string, unknown>;
  const extra =
    d.kind === 'escalate'
      ? ` → ${String(detail.target ?? '')}`
      : d.kind === 'dismiss' && typeof detail.reason === 'string' && detail.reason !== ''
        ? `: ${detail.reason}`
        : '';
  return html`<li class="ev small" data-entry="decision" data-decision="${d.kind}">${t(c, 'case.decision', { who: who(d.actor), what: label(c, 'inbox.decision', d.kind) })}${extra} <small class="muted">${timeTag(d.at, c.get('timeZone'))}</small></li>`;
}

/** The thread: everything in the case, oldest first. */
export function caseThread(
  c: C,
  match: {
    readonly id: string;
    readonly post: {
      readonly text: string;
      readonly createdAt: string;
      readonly url: string;
      readonly author: { readonly handle: string };
    };
  },
  data: CaseData,
  decisions: readonly ReviewDecision[],
  editor: boolean,
): Html {
  const entries: Entry[] = [];
  const postAt = new Date(match.post.createdAt);
  entries.push({
    at: Number.isNaN(postAt.getTime()) ? new Date(0) : postAt,
    order: 0,
    body: html`<li class="ev theirs" data-entry="post"><div class="ev-head"><strong>${t(c, 'case.theirPost')}</strong> @${match.post.author.handle} <small class="muted">${Number.isNaN(postAt.getTime()) ? '' : timeTag(postAt, c.get('timeZone'))}</small></div><div class="post-text">${match.post.text}</div></li>`,
  });
  for (const reply of data.replies)
    entries.push({ at: reply.createdAt, order: 1, body: replyEntry(c, match.id, reply, editor) });
  for (const event of data.events) entries.push({ at: event.at, order: 2, body: eventEntry(c, event) });
  // A reply decision is the reply shown above; every other decision is a step of its own.
  for (const d of decisions) {
    if (d.kind !== 'reply') entries.push({ at: d.at, order: 3, body: decisionEntry(c, d) });
  }
  entries.sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order);
  return html`<ol class="thread" id="case-thread">${entries.map((e) => e.body)}</ol>`;
}

/** The case's state, assignee and follow window, for the top of the page. */
export function caseSummary(
  c: C,
  match: {
    readonly caseState: CaseState;
    readonly assignee: { readonly name: string; readonly id: string } | null;
    readonly followUntil: Date | null;
  },
  now: Date,
): Html {
  return html`<p class="case-summary" id="case-summary"><span>${t(c, 'case.state')}: ${caseStateBadge(c, match.caseState)}</span>
<span>${t(c, 'case.assignee')}: <strong data-assignee="${match.assignee?.id ?? ''}">${match.assignee ? who(match.assignee) : t(c, 'case.nobody')}</strong></span>${
    match.followUntil && match.followUntil > now
      ? html` <small class="muted">${t(c, 'case.followUntil', { at: zonedText(match.followUntil, c.get('timeZone')) })}</small>`
      : ''
  }</p>`;
}

/** The state of the follow-up form after a refused send. */
export interface FollowUpFormState {
  readonly templateId: string;
  readonly category: string;
  readonly text: string;
  readonly answerId: string;
  readonly notice?: string | undefined;
}

export interface CaseForms {
  readonly followUp: FollowUpFormState;
  readonly note: string;
  readonly errors: FieldErrors;
}

/** The templates menu and the category select, shared with the reply form (views.ts renders them). */
export interface TemplateControls {
  /** The GET form choosing a template (`name` is the query parameter). */
  picker(name: string, selected: string, anchor: string): Html;
  category(id: string, selected: string): Html;
  /** The length line under a text box (the server's measure; the page's script updates it). */
  length(id: string, text: string, answerId: string): Html;
}

export function caseForms(
  c: C,
  matchId: string,
  data: CaseData,
  forms: CaseForms,
  controls: TemplateControls,
  canFollowUp: boolean,
  current: CaseState,
): Html | '' {
  const user = c.get('user');
  if (user === null || !atLeast(user.role, 'editor')) return '';
  const { errors } = forms;
  const answers = data.events.filter((e) => e.kind === 'answer' && e.postId !== null);
  const latest = answers.at(-1);
  const state = forms.followUp;
  const chosen = state.answerId || latest?.id || '';
  const followUp =
    answers.length === 0 || !canFollowUp
      ? html`<p class="muted">${t(c, 'case.followUp.notYet')}</p>${fieldError(errors, 'answer')}`
      : html`${controls.picker('followTemplate', state.templateId, 'follow-up-h')}
${state.notice ? html`<p class="error" role="alert">${state.notice}</p>` : ''}
<form method="post" action="/inbox/${matchId}/follow-up" id="follow-up-form">${csrfField(c)}
<input type="hidden" name="templateId" value="${state.templateId}">${fieldError(errors, 'templateId')}
<label for="follow-answer">${t(c, 'case.followUp.answer')}</label>
<select id="follow-answer" name="answerId">${answers.map(
          (a) =>
            html`<option value="${a.id}"${a.id === chosen ? html` selected` : ''}>${a === latest ? `${t(c, 'case.followUp.latest')}: ` : ''}@${a.authorHandle ?? ''} ${zonedText(a.at, c.get('timeZone'))} — ${a.text.length > 40 ? `${a.text.slice(0, 39)}…` : a.text}</option>`,
        )}</select>${fieldError(errors, 'answer')}
${controls.category('follow-category', state.category)}${fieldError(errors, 'category')}
<label for="follow-text">${t(c, 'inbox.reply.textLabel')}</label>
<textarea id="follow-text" name="text" rows="4" data-measure="follow-length" aria-describedby="follow-length"${errors.text ? html` aria-invalid="true"` : ''}>${state.text}</textarea>${fieldError(errors, 'text')}
${controls.length('follow-length', state.text, chosen)}
<p><button type="submit">${t(c, 'case.followUp.send')}</button></p></form>`;
  const me = user.id;
  const options = [
    html`<option value="">${t(c, 'case.nobody')}</option>`,
    html`<option value="me">${t(c, 'case.assign.me', { name: user.username })}</option>`,
    ...data.users
      .filter((u) => u.id !== me && atLeast(u.role, 'editor'))
      .map((u) => html`<option value="${u.id}">${u.username}</option>`),
  ];
  return html`<div class="grid2">
<section aria-labelledby="follow-up-h"><h3 id="follow-up-h">${t(c, 'case.followUp.title')}</h3>${followUp}</section>
<section aria-labelledby="note-h"><h3 id="note-h">${t(c, 'case.note.title')}</h3>
<form method="post" action="/inbox/${matchId}/note" id="note-form">${csrfField(c)}
<label for="note-text">${t(c, 'case.note.label')}</label>
<textarea id="note-text" name="text" rows="3"${errors.note ? html` aria-invalid="true"` : ''}>${forms.note}</textarea>${fieldError(errors, 'note')}
<p><button type="submit" class="secondary">${t(c, 'case.note.send')}</button></p></form></section>
<section aria-labelledby="assign-h"><h3 id="assign-h">${t(c, 'case.assign.title')}</h3>
<form method="post" action="/inbox/${matchId}/assign" class="inline">${csrfField(c)}<input type="hidden" name="assignee" value="me"><button type="submit" id="take-it">${t(c, 'case.assign.take')}</button></form>
<form method="post" action="/inbox/${matchId}/assign" id="assign-form">${csrfField(c)}
<label for="assign-to">${t(c, 'case.assign.to')}</label>
<select id="assign-to" name="assignee">${options}</select>${fieldError(errors, 'assignee')}
<p><button type="submit" class="secondary">${t(c, 'case.assign.send')}</button></p></form></section>
<section aria-labelledby="state-h"><h3 id="state-h">${t(c, 'case.stateForm.title')}</h3>
<form method="post" action="/inbox/${matchId}/case-state" id="state-form">${csrfField(c)}
<label for="case-state">${t(c, 'case.state')}</label>
<select id="case-state" name="state">${CASE_STATES.map((s) => html`<option value="${s}"${s === current ? html` selected` : ''}>${label(c, 'case.state', s)}</option>`)}</select>${fieldError(errors, 'state')}
<p><button type="submit" class="secondary">${t(c, 'case.stateForm.send')}</button></p></form></section>
</div>`;
}

/** The customer's earlier matches and the cooldown's state, in words. */
export function historyCard(c: C, data: CaseData, now: Date, platformName: (p: string) => string): Html {
  const tz = c.get('timeZone');
  const hours = data.cooldownHours;
  let cooldown: string;
  if (data.lastContact === null) cooldown = t(c, 'case.cooldown.never');
  else {
    const at = data.lastContact.at;
    const replied = t(c, 'case.cooldown.replied', {
      ago: agoText(c, Math.max(0, now.getTime() - at.getTime())),
      at: `${clockText(at, tz)} ${tz}`,
    });
    const until = new Date(at.getTime() + hours * HOUR);
    const state =
      hours <= 0
        ? t(c, 'case.cooldown.off')
        : until > now
          ? t(c, 'case.cooldown.active', { until: zonedText(until, tz), hours })
          : t(c, 'case.cooldown.over', { hours });
    cooldown = `${replied} ${state}`;
  }
  return html`<p id="cooldown-state">${cooldown}</p>${
    data.history.length === 0
      ? html`<p class="muted">${t(c, 'case.history.none')}</p>`
      : html`<ul class="customer-history">${data.history.map((h) => {
          const sent = h.replies.filter((r) => r.state === 'sent' || r.state === 'manual_done');
          return html`<li data-history="${h.match.id}">${timeTag(h.match.createdAt, tz)} · ${platformName(h.match.platform)} @${h.match.post.author.handle}${
            h.relation === 'same_name'
              ? html` <small class="muted">(${t(c, 'case.history.sameName', { platform: platformName(h.match.platform) })})</small>`
              : h.relation === 'linked'
                ? html` <small class="muted">(${t(c, 'case.history.linked')})</small>`
                : ''
          } · ${label(c, 'inbox.status', h.match.status)} · ${sent.length === 0 ? t(c, 'case.history.noReply') : t(c, 'case.history.replies', { n: sent.length })}
<div class="post-text small">${h.match.post.text.length > 140 ? `${h.match.post.text.slice(0, 139)}…` : h.match.post.text}</div>${
            sent[0]
              ? html`<div class="muted small">↳ ${sent[0].text.length > 140 ? `${sent[0].text.slice(0, 139)}…` : sent[0].text}</div>`
              : ''
          }<a href="/inbox/${h.match.id}">${t(c, 'case.open')}</a></li>`;
        })}</ul>`
  }`;
}

export const CASE_STYLE = `
.thread{list-style:none;padding:0;margin:0}.ev{border-left:3px solid var(--line);padding:.3rem .7rem;margin:.5rem 0}
.ev.theirs{border-color:#93c5fd}.ev.ours{border-color:#86efac}.ev.note{border-color:#fcd34d;background:#fffbeb}.ev.small{font-size:.9rem;color:var(--muted)}
.ev-head{display:flex;flex-wrap:wrap;gap:.3rem;align-items:baseline}.small{font-size:.9rem}
.case-summary{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:baseline}
.badge.case-open{background:#e0ecff;color:#1d4ed8}.badge.case-waiting{background:#fff1d6;color:#93370d}.badge.case-resolved{background:#dcfae6;color:#067647}
.badge.reading-thanks{background:#dcfae6;color:#067647}.badge.reading-unhappy{background:#fde2e1;color:#b42318}.badge.reading-question{background:#fff1d6;color:#93370d}
.customer-history{padding-left:1.1rem}.customer-history li{margin:.4rem 0}
`;

/**
 * Links the customer with their account on another platform (an author kikimimi has seen): from
 * then on the case history and the Discord review message show both. Editors and admins only.
 */
export function linkIdentityForm(
  c: C,
  matchId: string,
  platforms: readonly { readonly id: string; readonly name: string }[],
  errors: Readonly<Record<string, string>>,
): Html {
  return html`<form method="post" action="/inbox/${matchId}/link-identity" id="link-identity-form">${csrfField(c)}
<h3>${t(c, 'case.link.title')}</h3>
<label for="link-platform">${t(c, 'case.link.platform')}</label>
<select id="link-platform" name="platform">${platforms.map((p) => html`<option value="${p.id}">${p.name}</option>`)}</select>
<label for="link-handle">${t(c, 'case.link.handle')}</label>
<input id="link-handle" name="handle" maxlength="400" autocomplete="off">${fieldError(errors, 'identity')}
<p><button type="submit" class="secondary">${t(c, 'case.link.send')}</button></p></form>`;
}
