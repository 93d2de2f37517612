import type { MatchesChanged } from '@kikimimi/desk';
import { html } from 'hono/html';
import { streamSSE } from 'hono/streaming';
import { t } from '../../i18n.ts';
import { atLeast } from '../../layout.ts';
import type { ParsedFilters } from './filters.ts';
import { type C, depsOf } from './shared.ts';
import { matchRow, surgeSizesOf, watchNamesOf } from './views.ts';

/*
 * Daily work in the inbox: the live feed (server-sent events), keyboard shortcuts and the reply boxes'
 * live length counter. The pages work without any of it; the scripts are inline with the page's CSP
 * nonce and only put in what the server rendered (rows) or measured (lengths).
 */

/** A heartbeat keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 25_000;
/** Rows rendered per announcement at most (a big import announces thousands: the newest are shown). */
const MAX_ROWS = 50;

/**
 * GET /inbox/events: a `rows` event whenever matches fitting the page's filters appear or change, with
 * their rows rendered as on the page (`{ rows: [{ id, kind, html }], gone: [id] }`); `gone` lists
 * changed matches that no longer fit the filters.
 */
export function inboxEvents(c: C, parsed: ParsedFilters) {
  const deps = depsOf(c);
  const live = deps.live;
  const user = c.get('user');
  const editor = user !== null && atLeast(user.role, 'editor');
  return streamSSE(
    c,
    async (stream) => {
      if (live === undefined) {
        await stream.writeSSE({ event: 'unavailable', data: '' });
        return;
      }
      const queue: MatchesChanged[] = [];
      let wake: (() => void) | undefined;
      let closed = false;
      const unsubscribe = live.subscribe((change) => {
        if (change === 'closed') closed = true;
        else queue.push(change);
        wake?.();
      });
      stream.onAbort(() => {
        closed = true;
        wake?.();
      });
      try {
        await stream.writeSSE({ event: 'ready', data: '' });
        while (!closed && !stream.aborted) {
          if (queue.length === 0) {
            let timer: NodeJS.Timeout | undefined;
            await new Promise<void>((resolve) => {
              wake = resolve;
              timer = setTimeout(resolve, HEARTBEAT_MS);
            });
            clearTimeout(timer);
            wake = undefined;
            if (queue.length === 0 && !closed) await stream.writeSSE({ event: 'ping', data: '' });
            continue;
          }
          const batch = queue.splice(0);
          const kinds = new Map<string, MatchesChanged['kind']>();
          for (const change of batch) {
            for (const id of change.ids) if (kinds.get(id) !== 'new') kinds.set(id, change.kind);
          }
          const ids = [...kinds.keys()].slice(-MAX_ROWS);
          const [items, { config }] = await Promise.all([
            deps.repos.matches.list({ ...parsed.filters, ids }, { limit: MAX_ROWS }),
            deps.repos.config.current(),
          ]);
          const names = watchNamesOf(config);
          const surges = await surgeSizesOf(deps.repos, items);
          const shown = new Set(items.map((m) => m.id));
          const rows = await Promise.all(
            items.map(async (m) => ({
              id: m.id,
              kind: kinds.get(m.id) ?? 'changed',
              html: String(await matchRow(c, m, names, editor, surges)),
            })),
          );
          const gone = ids.filter((id) => !shown.has(id) && kinds.get(id) === 'changed');
          if (rows.length > 0 || gone.length > 0)
            await stream.writeSSE({ event: 'rows', data: JSON.stringify({ rows, gone }) });
        }
      } finally {
        unsubscribe();
      }
    },
    async (error, stream) => {
      // The database went away mid-stream, say: the page's EventSource reconnects by itself.
      deps.log.warn({ error: error.message }, 'live inbox stream ended by an error');
      await stream.writeSSE({ event: 'error', data: '' }).catch(() => {});
    },
  );
}

/** The shortcuts' help, hidden until "?" (a dialog-like box; Escape or "?" closes it). */
export const keyHelp = (
  c: C,
) => html`<aside id="kbd-help" class="kbd-help" hidden aria-labelledby="kbd-help-h">
<strong id="kbd-help-h">${t(c, 'inbox.keys.title')}</strong>
<dl class="kv">
<dt><kbd>j</kbd> / <kbd>k</kbd></dt><dd>${t(c, 'inbox.keys.move')}</dd>
<dt><kbd>o</kbd></dt><dd>${t(c, 'inbox.keys.open')}</dd>
<dt><kbd>r</kbd></dt><dd>${t(c, 'inbox.keys.reply')}</dd>
<dt><kbd>e</kbd></dt><dd>${t(c, 'inbox.keys.escalate')}</dd>
<dt><kbd>d</kbd></dt><dd>${t(c, 'inbox.keys.dismiss')}</dd>
<dt><kbd>?</kbd></dt><dd>${t(c, 'inbox.keys.help')}</dd>
</dl><button type="button" class="secondary" id="kbd-help-close">${t(c, 'inbox.keys.close')}</button></aside>`;

/** Keys typed into a field are the field's: shortcuts only when focus is elsewhere, without modifiers. */
const KEYS_COMMON = `
function typing(e){var el=e.target;if(!el||!el.tagName)return false;var tag=el.tagName;return tag==='INPUT'||tag==='TEXTAREA'||tag==='SELECT'||el.isContentEditable}
function help(){var box=document.getElementById('kbd-help');if(box)box.hidden=!box.hidden}
var closeHelp=document.getElementById('kbd-help-close');if(closeHelp)closeHelp.addEventListener('click',help);
function onKeys(map){document.addEventListener('keydown',function(e){
if(e.ctrlKey||e.metaKey||e.altKey||e.isComposing||typing(e))return;
if(e.key==='Escape'){var box=document.getElementById('kbd-help');if(box&&!box.hidden){box.hidden=true}return}
var fn=map[e.key];if(fn){e.preventDefault();fn()}})}
`;

/**
 * The inbox page's script: j/k move through the rows, o opens (Enter keeps its own meaning), r/e/d open the match at its reply,
 * escalation or dismissal form, "?" help; the "select all" box; and the live feed: rows of new matches
 * are put on top (on the first page), changed ones replaced in place.
 */
export function inboxScript(eventsUrl: string, liveRows: boolean): string {
  return `(function(){
${KEYS_COMMON}
var tbody=document.querySelector('#inbox-table tbody');
function rows(){return Array.prototype.slice.call(document.querySelectorAll('#inbox-table tbody tr'))}
var current=-1;
function mark(i){var list=rows();if(list.length===0)return;current=Math.max(0,Math.min(i,list.length-1));list.forEach(function(r,n){r.classList.toggle('current',n===current)});list[current].scrollIntoView({block:'nearest'})}
function go(hash){var list=rows();var row=list[current<0?0:current];if(!row)return;var a=row.querySelector('a[data-open]');if(a)location.href=a.getAttribute('href')+(hash||'')}
onKeys({j:function(){mark(current+1)},k:function(){mark(current-1)},o:function(){go('')},r:function(){go('#reply-h')},e:function(){go('#esc-h')},d:function(){go('#dis-h')},'?':help});
var all=document.getElementById('select-all');
if(all)all.addEventListener('change',function(){rows().forEach(function(r){var box=r.querySelector('input[name=ids]');if(box)box.checked=all.checked})});
if(!window.EventSource||!tbody)return;
var status=document.getElementById('live-status');var fresh=0;
var source=new EventSource(${JSON.stringify(eventsUrl)});
source.addEventListener('ready',function(){document.documentElement.setAttribute('data-live','on')});
source.addEventListener('error',function(){document.documentElement.setAttribute('data-live','off')});
source.addEventListener('rows',function(ev){
var data;try{data=JSON.parse(ev.data)}catch(err){return}
data.rows.forEach(function(row){
var tpl=document.createElement('template');tpl.innerHTML=row.html.trim();var tr=tpl.content.firstElementChild;if(!tr)return;
var old=tbody.querySelector('tr[data-match-id="'+row.id+'"]');
if(old){var box=old.querySelector('input[name=ids]');var checked=box&&box.checked;old.replaceWith(tr);var nb=tr.querySelector('input[name=ids]');if(nb&&checked)nb.checked=true;tr.classList.add('changed')}
else if(${liveRows ? 'true' : 'false'}&&row.kind==='new'){tbody.insertBefore(tr,tbody.firstChild);tr.classList.add('fresh');fresh++}
else return;
tr.querySelectorAll('time[datetime][data-tz]').forEach(function(e){var d=new Date(e.getAttribute('datetime'));if(!isNaN(d))e.textContent=d.toLocaleString(document.documentElement.lang,{dateStyle:'medium',timeStyle:'short',timeZone:e.dataset.tz})});
});
(data.gone||[]).forEach(function(id){var old=tbody.querySelector('tr[data-match-id="'+id+'"]');if(old)old.remove()});
var table=document.getElementById('inbox-table');var empty=document.getElementById('inbox-empty');var n=rows().length;
if(table)table.hidden=n===0;if(empty)empty.hidden=n>0;
if(status&&fresh>0)status.textContent=(status.getAttribute('data-template')||'{n}').replace('{n}',String(fresh));
});
})();`;
}

/**
 * The match page's script: r/e/d focus the reply (or follow-up), escalation and dismissal fields, j/k
 * move through the conversation, "?" help; and the length counters under the reply and follow-up
 * boxes follow the typing — measured by the server (/api/matches/:id/measure) the way the send check
 * measures, so the counter and the check never disagree.
 */
export const MATCH_SCRIPT = `(function(){
${KEYS_COMMON}
function focus(ids){for(var i=0;i<ids.length;i++){var el=document.getElementById(ids[i]);if(el){el.focus();el.scrollIntoView({block:'center'});return}}}
var entries=function(){return Array.prototype.slice.call(document.querySelectorAll('#case-thread > li'))};var current=-1;
function mark(i){var list=entries();if(list.length===0)return;current=Math.max(0,Math.min(i,list.length-1));list.forEach(function(r,n){r.classList.toggle('current',n===current)});list[current].scrollIntoView({block:'nearest'})}
onKeys({r:function(){focus(['reply-text','follow-text'])},e:function(){focus(['esc-target'])},d:function(){focus(['dis-reason'])},j:function(){mark(current+1)},k:function(){mark(current-1)},'?':help});
var csrfInput=document.querySelector('input[name=_csrf]');var csrf=csrfInput?csrfInput.value:'';
document.querySelectorAll('textarea[data-measure]').forEach(function(area){
var out=document.getElementById(area.getAttribute('data-measure'));if(!out)return;
var shown=out.querySelector('.length');var template=out.getAttribute('data-template')||'';var match=out.getAttribute('data-match');
var answer=area.form?area.form.querySelector('[name=answerId]'):null;var seq=0;var timer;
function run(){var n=++seq;fetch('/api/matches/'+match+'/measure',{method:'POST',credentials:'same-origin',headers:{'content-type':'application/json','x-csrf-token':csrf,accept:'application/json'},body:JSON.stringify({text:area.value,answerId:answer?answer.value:''})}).then(function(r){return r.json()}).then(function(m){
if(n!==seq||!shown||typeof m.length!=='number')return;
shown.textContent=m.blank?'':template.replace('{length}',String(m.length)).replace('{limit}',String(m.limit));
shown.classList.toggle('over',!m.blank&&!m.ok);area.setAttribute('data-length',String(m.length));
if(!m.blank&&!m.ok)area.setAttribute('aria-invalid','true');else area.removeAttribute('aria-invalid')}).catch(function(){})}
area.addEventListener('input',function(){clearTimeout(timer);timer=setTimeout(run,120)});
if(answer)answer.addEventListener('change',run);
});
})();`;
