import type { Post } from '@kikimimi/rules';
import { html } from 'hono/html';
import { escalationReasonText, suppressionDetailText } from '../../decision-text.ts';
import { t } from '../../i18n.ts';
import { type C, when } from './shared.ts';
import type { PreviewMatch } from './watch-preview.ts';

/** Only http(s) links from the outside world become links. */
export const safeHref = (url: string) => (/^https?:\/\//iu.test(url) ? url : '#');

const postCell = (c: C, post: Post) => html`<td>
  <div><strong>${post.author.displayName || post.author.handle}</strong> <span class="muted">@${post.author.handle}${post.author.followers === null ? '' : ` · ${t(c, 'config.preview.followers', { n: post.author.followers })}`}</span></div>
  <div class="muted">${t(c, `config.platform.${post.platform}`)} · <a href="${safeHref(post.url)}" rel="noreferrer noopener" target="_blank">${when(c, new Date(post.createdAt))}</a></div>
  <div>${post.text}</div>
</td>`;

/** Why the rules decided what they did about each post: intent and signals, reply, route, escalations, suppression. */
export function decisionsTable(c: C, matches: readonly PreviewMatch[]) {
  if (matches.length === 0) return html`<p class="muted">${t(c, 'config.preview.none')}</p>`;
  return html`<table>
    <thead><tr><th>${t(c, 'config.preview.post')}</th><th>${t(c, 'config.preview.why')}</th><th>${t(c, 'config.preview.outcome')}</th></tr></thead>
    <tbody>
      ${matches.map(({ post, decision }) => {
        const signals = decision.signals.map(
          (s) =>
            html`<span class="badge">${s.negated ? '¬' : ''}${s.word} → ${t(c, `config.intent.${s.intent}`)}</span> `,
        );
        return html`<tr>
          ${postCell(c, post)}
          <td>
            <div>${t(c, 'config.preview.watches')}: ${decision.watches.join(', ')}</div>
            <div>${t(c, 'config.preview.intent')}: <strong>${t(c, `config.intent.${decision.intent}`)}</strong>${decision.category === null ? '' : html` → ${t(c, `config.category.${decision.category}`)}`}</div>
            <div>${t(c, 'config.preview.signals')}: ${signals.length === 0 ? '—' : signals}</div>
            ${
              decision.model === undefined
                ? ''
                : html`<div>${t(
                    c,
                    decision.model.dictionary === decision.model.intent
                      ? 'config.preview.model'
                      : 'config.preview.modelOverrules',
                    {
                      intent: t(c, `config.intent.${decision.model.intent}`),
                      percent: Math.round(decision.model.probability * 100),
                      dictionary: t(c, `config.intent.${decision.model.dictionary}`),
                    },
                  )}</div>`
            }
          </td>
          <td>
            ${
              decision.suppressed
                ? html`<div class="error">${t(c, 'config.preview.suppressed')}: ${decision.suppression.reasons.map((r) => t(c, `config.suppression.reason.${r}`)).join(', ')}</div>
                  <div class="hint">${decision.suppression.detail
                    .map((d) => suppressionDetailText(c.get('lang'), d))
                    .filter((d) => d !== '')
                    .join(' / ')}</div>`
                : html`<div class="ok">${t(c, 'config.preview.toReview', { channel: decision.route.reviewChannel, priority: t(c, `config.priority.${decision.route.priority}`) })}</div>`
            }
            ${decision.escalations.map(
              (e) =>
                html`<div>${t(c, 'config.preview.escalation')}: <strong>${e.name}</strong>${e.route ? ` → ${e.route}` : ''} <span class="hint">${e.reasons
                  .map((r) => escalationReasonText(c.get('lang'), r))
                  .filter((r) => r !== '')
                  .join(c.get('lang') === 'ja' ? '、' : ', ')}</span></div>`,
            )}
            ${
              decision.reply === null
                ? html`<div class="muted">${t(c, 'config.preview.noReply')}</div>`
                : html`<details><summary>${t(c, 'config.preview.reply', { template: decision.reply.templateId, length: decision.reply.length, limit: decision.reply.limit })}</summary><pre class="preview">${decision.reply.text}</pre></details>`
            }
          </td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

/** Posts fetched that the local rules do not match (the platform's search is only a net). */
export function unmatchedList(c: C, posts: readonly Post[]) {
  if (posts.length === 0) return '';
  return html`<details><summary>${t(c, 'config.fetch.unmatched', { count: posts.length })}</summary>
    <table><tbody>${posts.map((post) => html`<tr>${postCell(c, post)}</tr>`)}</tbody></table>
  </details>`;
}
