/*
 * The only client-side code of the configuration pages: live feedback while typing. Everything works
 * without it (saving shows the same errors); the server stays the judge — the scripts only display what
 * /api/query/check and /api/templates/preview answer. Bodies are form-encoded with the `_csrf` field (and
 * the token in a header), like the forms themselves.
 */

const COMMON = `
var csrfInput = document.querySelector('input[name=_csrf]');
var csrf = csrfInput ? csrfInput.value : '';
function post(url, data) {
  var body = new URLSearchParams();
  Object.keys(data).forEach(function (key) {
    var value = data[key];
    (Array.isArray(value) ? value : [value]).forEach(function (v) { body.append(key, v); });
  });
  body.set('_csrf', csrf);
  return fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'x-csrf-token': csrf, accept: 'application/json' },
    body: body
  }).then(function (response) { return response.json(); });
}
function debounce(fn, ms) {
  var timer;
  return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
}
function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
function fill(template, vars) {
  return template.replace(/\\{(\\w+)\\}/g, function (whole, name) { return name in vars ? String(vars[name]) : whole; });
}
function excerpt(source, offset, length) {
  var start = Math.max(0, Math.min(offset, source.length));
  var end = Math.min(source.length, start + Math.max(length, 0));
  var lineStart = source.lastIndexOf('\\n', start - 1) + 1;
  var lineEnd = source.indexOf('\\n', end); if (lineEnd === -1) lineEnd = source.length;
  var pre = el('pre', 'excerpt');
  pre.appendChild(document.createTextNode(source.slice(lineStart, start)));
  pre.appendChild(el('mark', '', end > start ? source.slice(start, end) : '\\u2038'));
  pre.appendChild(document.createTextNode(source.slice(end, lineEnd)));
  return pre;
}
`;

/** Checks `textarea[data-query-check=<output id>]` as the user types (debounced) and marks the error position. */
export const QUERY_CHECK_SCRIPT = `(function () {
${COMMON}
document.querySelectorAll('textarea[data-query-check]').forEach(function (area) {
  var out = document.getElementById(area.getAttribute('data-query-check'));
  if (!out) return;
  var seq = 0;
  // The error a refused save put under the field is about the text as it was sent: once the text is
  // edited, it is replaced by the live verdict instead of standing next to it.
  var field = area.closest('.field');
  var stale = field ? field.querySelector('.error[data-field]') : null;
  var run = debounce(function () {
    var query = area.value;
    var n = ++seq;
    if (query.trim() === '') { out.textContent = ''; return; }
    post('/api/query/check', { query: query }).then(function (result) {
      if (n !== seq) return;
      if (stale) { stale.remove(); stale = null; }
      out.textContent = '';
      if (result.ok) {
        area.removeAttribute('aria-invalid');
        out.appendChild(el('span', 'ok', out.getAttribute('data-ok') || 'OK'));
        return;
      }
      var e = result.error;
      area.setAttribute('aria-invalid', 'true');
      var where = fill(out.getAttribute('data-position') || '{offset}', e);
      out.appendChild(el('div', 'error', e.message + ' (' + where + ')'));
      if (e.detail) out.appendChild(el('div', 'hint', e.detail));
      out.appendChild(excerpt(query, e.offset, e.length));
    }).catch(function () {});
  }, 350);
  area.addEventListener('input', run);
});
})();`;

/**
 * Live length counter of a template form: posts the text, platform and watches to /api/templates/preview
 * and shows the measured length per platform (the server's measureReply), the rendered sample and problems.
 */
export const TEMPLATE_PREVIEW_SCRIPT = `(function () {
${COMMON}
document.querySelectorAll('textarea[data-template-preview]').forEach(function (area) {
  var out = document.getElementById(area.getAttribute('data-template-preview'));
  var form = area.form;
  if (!out || !form) return;
  var seq = 0;
  var run = debounce(function () {
    var n = ++seq;
    var platform = form.querySelector('[name=platform]');
    var watches = Array.prototype.slice.call(form.querySelectorAll('input[name=watches]:checked')).map(function (i) { return i.value; });
    post('/api/templates/preview', { text: area.value, platform: platform ? platform.value : '*', watches: watches })
      .then(function (result) {
        if (n !== seq || !result.previews) return;
        out.textContent = '';
        (result.problems || []).forEach(function (p) {
          out.appendChild(el('div', 'error', p.message + ' (' + fill(out.getAttribute('data-position') || '{offset}', p) + ')'));
          out.appendChild(excerpt(area.value, p.offset, p.length));
        });
        result.previews.forEach(function (p) {
          var row = el('div', 'counter' + (p.ok ? '' : ' over'),
            (out.getAttribute('data-label-' + p.platform) || p.platform) + ': ' + p.length + ' / ' + p.limit);
          row.setAttribute('data-platform', p.platform);
          out.appendChild(row);
          out.appendChild(el('pre', 'preview', p.text));
        });
      }).catch(function () {});
  }, 250);
  area.addEventListener('input', run);
  form.addEventListener('change', run);
});
})();`;
