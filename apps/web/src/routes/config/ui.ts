import { html } from 'hono/html';
import { type FieldErrors, fieldError, type Html } from '../../layout.ts';

/** A field: label, control, hint and the error next to it. The control's id is `f-<path>`. */
export function field(options: {
  readonly path: string;
  /** The control's id without the `f-` prefix when it differs from the path (several forms on a page). */
  readonly id?: string | undefined;
  readonly label: string;
  readonly control: Html;
  readonly errors?: FieldErrors | undefined;
  readonly hint?: string | Html | undefined;
}) {
  return html`<div class="field" id="field-${options.id ?? options.path}">
    <label for="f-${options.id ?? options.path}">${options.label}</label>
    ${options.control}
    ${options.hint ? html`<p class="hint">${options.hint}</p>` : ''}
    ${fieldError(options.errors, options.path)}
  </div>`;
}

const invalid = (errors: FieldErrors | undefined, path: string) =>
  errors?.[path] ? html` aria-invalid="true"` : '';

export function textInput(options: {
  readonly path: string;
  readonly id?: string | undefined;
  readonly name?: string;
  readonly value: string | number | undefined;
  readonly errors?: FieldErrors | undefined;
  readonly type?: 'text' | 'url' | 'number' | 'password';
  readonly required?: boolean;
  readonly readonly?: boolean;
  readonly placeholder?: string;
  readonly list?: string;
  readonly autocomplete?: string;
  readonly min?: number;
}) {
  return html`<input type="${options.type ?? 'text'}" id="f-${options.id ?? options.path}" name="${options.name ?? options.path}" value="${options.value ?? ''}"${options.required ? html` required` : ''}${options.readonly ? html` readonly` : ''}${options.placeholder ? html` placeholder="${options.placeholder}"` : ''}${options.list ? html` list="${options.list}"` : ''}${options.min === undefined ? '' : html` min="${options.min}"`} autocomplete="${options.autocomplete ?? 'off'}"${invalid(options.errors, options.path)}>`;
}

export function textArea(options: {
  readonly path: string;
  readonly name?: string;
  readonly value: string;
  readonly errors?: FieldErrors | undefined;
  readonly rows?: number;
  readonly data?: Readonly<Record<string, string>>;
  readonly required?: boolean;
}) {
  const data = Object.entries(options.data ?? {}).map(([k, v]) => html` data-${k}="${v}"`);
  return html`<textarea id="f-${options.path}" name="${options.name ?? options.path}" rows="${options.rows ?? 4}" spellcheck="false"${options.required ? html` required` : ''}${data}${invalid(options.errors, options.path)}>${options.value}</textarea>`;
}

export function checkbox(options: {
  readonly path: string;
  readonly id?: string | undefined;
  readonly name?: string;
  readonly label: string;
  readonly checked: boolean;
  readonly value?: string;
}) {
  return html`<label class="check" for="f-${options.id ?? options.path}"><input type="checkbox" id="f-${options.id ?? options.path}" name="${options.name ?? options.path}" value="${options.value ?? 'on'}"${options.checked ? html` checked` : ''}> ${options.label}</label>`;
}

/** A group of checkboxes sharing one name. */
export function checkboxes(options: {
  readonly name: string;
  readonly legend: string;
  readonly options: ReadonlyArray<{ readonly value: string; readonly label: string }>;
  readonly selected: readonly string[];
  readonly errors?: FieldErrors | undefined;
  readonly hint?: string | undefined;
}) {
  return html`<div class="field checks" id="field-${options.name}" role="group" aria-labelledby="legend-${options.name}">
    <label id="legend-${options.name}">${options.legend}</label>
    ${options.options.length === 0 ? html`<span class="muted">—</span>` : ''}
    ${options.options.map(
      (o) =>
        html`<label><input type="checkbox" name="${options.name}" value="${o.value}"${options.selected.includes(o.value) ? html` checked` : ''}> ${o.label}</label>`,
    )}
    ${options.hint ? html`<p class="hint">${options.hint}</p>` : ''}
    ${fieldError(options.errors, options.name)}
  </div>`;
}

export function select(options: {
  readonly path: string;
  readonly name?: string;
  readonly value: string;
  readonly options: ReadonlyArray<{ readonly value: string; readonly label: string }>;
  readonly errors?: FieldErrors | undefined;
}) {
  return html`<select id="f-${options.path}" name="${options.name ?? options.path}"${invalid(options.errors, options.path)}>
    ${options.options.map((o) => html`<option value="${o.value}"${o.value === options.value ? html` selected` : ''}>${o.label}</option>`)}
  </select>`;
}

/** Suggestions for a text input. */
export function datalist(id: string, values: Iterable<string>) {
  return html`<datalist id="${id}">${[...values].sort().map((v) => html`<option value="${v}"></option>`)}</datalist>`;
}

export const badge = (on: boolean, yes: string, no: string) =>
  html`<span class="badge ${on ? 'on' : 'off'}">${on ? yes : no}</span>`;
