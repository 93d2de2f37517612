/** Discord's JSON error shapes and the parts of its form validation kikimimi can run into. */

type Json = Record<string, unknown>;

export interface DiscordErrorResponse {
  readonly status: number;
  readonly body: { readonly message: string; readonly code: number; readonly errors?: Json };
}

export const discordError = (status: number, code: number, message: string): DiscordErrorResponse => ({
  status,
  body: { message, code },
});

export const ERRORS = {
  unauthorized: () => discordError(401, 0, '401: Unauthorized'),
  notFound: () => discordError(404, 0, '404: Not Found'),
  unknownChannel: () => discordError(404, 10003, 'Unknown Channel'),
  unknownGuild: () => discordError(404, 10004, 'Unknown Guild'),
  unknownMember: () => discordError(404, 10007, 'Unknown Member'),
  unknownMessage: () => discordError(404, 10008, 'Unknown Message'),
  unknownUser: () => discordError(404, 10013, 'Unknown User'),
  unknownWebhook: () => discordError(404, 10015, 'Unknown Webhook'),
  unknownInteraction: () => discordError(404, 10062, 'Unknown interaction'),
  alreadyAcknowledged: () => discordError(400, 40060, 'Interaction has already been acknowledged.'),
  emptyMessage: () => discordError(400, 50006, 'Cannot send an empty message'),
  wrongChannelType: () => discordError(400, 50024, 'Cannot execute action on this channel type'),
  threadAlreadyCreated: () => discordError(400, 160004, 'A thread has already been created for this message'),
  invalidWebhookToken: () => discordError(401, 50027, 'Invalid Webhook Token'),
  unavailable: () => discordError(503, 0, '503: Service Unavailable'),
} as const;

/** Collects field errors into Discord's nested `{ field: { 0: { _errors: [...] } } }` shape. */
export interface FormErrors {
  add(path: ReadonlyArray<string | number>, code: string, message: string): void;
  readonly count: number;
  /** The 400 response, or null when nothing was wrong. */
  response(): DiscordErrorResponse | null;
}

export function createFormErrors(): FormErrors {
  const root: Json = {};
  let count = 0;
  return {
    add(path, code, message) {
      let node = root;
      for (const key of path) {
        const name = String(key);
        node[name] ??= {};
        node = node[name] as Json;
      }
      node._errors ??= [];
      (node._errors as Json[]).push({ code, message });
      count++;
    },
    get count() {
      return count;
    },
    response: () =>
      count === 0 ? null : { status: 400, body: { message: 'Invalid Form Body', code: 50035, errors: root } },
  };
}

type Path = ReadonlyArray<string | number>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks an optional string field's type and length; reports like Discord does. */
function checkString(
  errors: FormErrors,
  path: Path,
  value: unknown,
  limits: { min?: number; max: number; required?: boolean },
): void {
  if (value === undefined || value === null) {
    if (limits.required) errors.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
    return;
  }
  if (typeof value !== 'string') {
    errors.add(path, 'BASE_TYPE_STRING', 'Must be a string.');
    return;
  }
  const length = [...value].length;
  const min = limits.min ?? 0;
  if (length > limits.max || length < min) {
    if (min > 0)
      errors.add(path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${min} and ${limits.max} in length.`);
    else errors.add(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${limits.max} or fewer in length.`);
  }
}

function checkArray(
  errors: FormErrors,
  path: Path,
  value: unknown,
  max: number,
  min = 0,
): value is unknown[] {
  if (value === undefined || value === null) return false;
  if (!Array.isArray(value)) {
    errors.add(path, 'BASE_TYPE_ARRAY', 'Must be an array.');
    return false;
  }
  if (value.length > max || value.length < min) {
    if (min > 0) errors.add(path, 'BASE_TYPE_BAD_LENGTH', `Must be between ${min} and ${max} in length.`);
    else errors.add(path, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
  }
  return true;
}

function checkInteger(errors: FormErrors, path: Path, value: unknown, min: number, max: number): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    errors.add(path, 'NUMBER_TYPE_COERCE', `Value "${String(value)}" is not int.`);
  } else if (value < min || value > max) {
    errors.add(path, 'NUMBER_TYPE_MAX', `int value should be between ${min} and ${max}.`);
  }
}

const textLength = (value: unknown): number => (typeof value === 'string' ? [...value].length : 0);

function checkEmbeds(errors: FormErrors, embeds: unknown): void {
  if (!checkArray(errors, ['embeds'], embeds, 10)) return;
  let total = 0;
  embeds.forEach((embed, i) => {
    const path = ['embeds', i];
    if (!isObject(embed)) {
      errors.add(path, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
      return;
    }
    checkString(errors, [...path, 'title'], embed.title, { max: 256 });
    checkString(errors, [...path, 'description'], embed.description, { max: 4096 });
    checkString(errors, [...path, 'url'], embed.url, { max: 2048 });
    checkInteger(errors, [...path, 'color'], embed.color, 0, 0xffffff);
    total += textLength(embed.title) + textLength(embed.description);
    if (isObject(embed.footer)) {
      checkString(errors, [...path, 'footer', 'text'], embed.footer.text, { max: 2048, required: true });
      total += textLength(embed.footer.text);
    }
    if (isObject(embed.author)) {
      checkString(errors, [...path, 'author', 'name'], embed.author.name, { max: 256, required: true });
      total += textLength(embed.author.name);
    }
    if (checkArray(errors, [...path, 'fields'], embed.fields, 25)) {
      (embed.fields as unknown[]).forEach((field, j) => {
        const fieldPath = [...path, 'fields', j];
        if (!isObject(field)) {
          errors.add(fieldPath, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
          return;
        }
        checkString(errors, [...fieldPath, 'name'], field.name, { max: 256, required: true });
        checkString(errors, [...fieldPath, 'value'], field.value, { max: 1024, required: true });
        total += textLength(field.name) + textLength(field.value);
      });
    }
  });
  if (total > 6000)
    errors.add(['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', 'Embed size exceeds maximum size of 6000');
}

/** Message flag: the message uses components v2 (layout components, no content or embeds). */
export const IS_COMPONENTS_V2 = 1 << 15;

/**
 * Components v2 limits, from Discord's component reference ("Messages allow up to 40 total
 * components") and discord.js's guide on display components ("nested components count!"; "the
 * amount of text across all text display components cannot exceed 4000 characters").
 */
const MAX_V2_COMPONENTS = 40;
const MAX_V2_TEXT = 4000;

/** Which component types may go where (Discord's component reference). */
const CHOICES = {
  classicTopLevel: [1],
  v2TopLevel: [1, 9, 10, 12, 13, 14, 17],
  containerChild: [1, 9, 10, 12, 13, 14],
  rowChild: [2, 3, 5, 6, 7, 8],
  sectionChild: [10],
  sectionAccessory: [2, 11],
} as const;

/** What one walk over a message's components has seen so far. */
interface ComponentWalk {
  /** Components counted, nested ones and section accessories included. */
  count: number;
  /** Characters across all text displays. */
  text: number;
  /** The numeric `id`s met; 0 counts as none (Discord fills it in). */
  readonly ids: Set<number>;
}

const choiceList = (types: readonly number[]): string =>
  types.length === 1 ? `(${types[0]},)` : `(${types.join(', ')})`;

/** A component of an allowed type; else Discord's UNION_TYPE_CHOICES, on the component's path. */
function checkComponentType(
  errors: FormErrors,
  path: Path,
  component: unknown,
  allowed: readonly number[],
): component is Json {
  if (isObject(component) && typeof component.type === 'number' && allowed.includes(component.type))
    return true;
  errors.add(path, 'UNION_TYPE_CHOICES', `Value of field "type" must be one of ${choiceList(allowed)}.`);
  return false;
}

function checkBoolean(errors: FormErrors, path: Path, value: unknown): void {
  if (value !== undefined && value !== null && typeof value !== 'boolean')
    errors.add(path, 'BASE_TYPE_BOOLEAN', 'Must be either true or false.');
}

/** Counts the component and checks its optional `id`: a 32-bit integer, unique within the message. */
function countComponent(errors: FormErrors, path: Path, component: Json, walk: ComponentWalk): void {
  walk.count++;
  const id = component.id;
  if (id === undefined || id === null) return;
  checkInteger(errors, [...path, 'id'], id, 0, 2_147_483_647);
  if (typeof id !== 'number' || id === 0) return;
  if (walk.ids.has(id))
    errors.add([...path, 'id'], 'COMPONENT_ID_DUPLICATED', 'Component id cannot be duplicated');
  walk.ids.add(id);
}

function checkButton(errors: FormErrors, path: Path, button: Json): void {
  const style = button.style;
  if (typeof style !== 'number' || style < 1 || style > 6) {
    errors.add([...path, 'style'], 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2, 3, 4, 5, 6}.');
    return;
  }
  if (style === 5) {
    checkString(errors, [...path, 'url'], button.url, { max: 512, required: true });
    if (button.custom_id !== undefined)
      errors.add(
        [...path, 'custom_id'],
        'BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED',
        'A link button cannot have a custom id',
      );
  } else if (style === 6) {
    checkString(errors, [...path, 'sku_id'], button.sku_id, { max: 20, required: true });
  } else {
    checkString(errors, [...path, 'custom_id'], button.custom_id, { min: 1, max: 100, required: true });
    if (button.url !== undefined)
      errors.add([...path, 'url'], 'BUTTON_COMPONENT_URL_NOT_ALLOWED', 'A non-link button cannot have a url');
  }
  checkString(errors, [...path, 'label'], button.label, { max: 80 });
  if (style !== 6 && (button.label === undefined || button.label === '') && button.emoji === undefined)
    errors.add(path, 'BUTTON_COMPONENT_INVALID', 'A button must have a label or an emoji');
}

/** An action row, top-level or in a container: 1–5 buttons, or a single select. */
function checkActionRow(errors: FormErrors, path: Path, row: Json, walk: ComponentWalk): void {
  if (!checkArray(errors, [...path, 'components'], row.components, 5, 1)) {
    if (row.components === undefined || row.components === null)
      errors.add([...path, 'components'], 'BASE_TYPE_REQUIRED', 'This field is required');
    return;
  }
  const children = row.components as unknown[];
  children.forEach((child, j) => {
    const childPath = [...path, 'components', j];
    if (!checkComponentType(errors, childPath, child, CHOICES.rowChild)) return;
    countComponent(errors, childPath, child, walk);
    if (child.type === 2) {
      checkButton(errors, childPath, child);
      return;
    }
    checkString(errors, [...childPath, 'custom_id'], child.custom_id, { min: 1, max: 100, required: true });
    if (children.length > 1)
      errors.add(
        childPath,
        'COMPONENT_LAYOUT_WIDTH_EXCEEDED',
        'The specified component exceeds the maximum width',
      );
  });
}

/** An unfurled media item: only `url` is the app's to set. */
function checkMedia(errors: FormErrors, path: Path, media: unknown, attachmentOnly = false): void {
  if (media === undefined || media === null) {
    errors.add(path, 'BASE_TYPE_REQUIRED', 'This field is required');
    return;
  }
  if (!isObject(media)) {
    errors.add(path, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
    return;
  }
  if (typeof media.url !== 'string' || media.url === '') {
    errors.add([...path, 'url'], 'BASE_TYPE_REQUIRED', 'This field is required');
    return;
  }
  if (attachmentOnly && !media.url.startsWith('attachment://'))
    errors.add(
      [...path, 'url'],
      'UNFURLED_MEDIA_ITEM_ATTACHMENT_REQUIRED',
      'A file component only takes an attachment://<filename> reference',
    );
}

/** One component of a components-v2 message, of a type `allowed` at its place, and what it holds. */
function checkLayoutComponent(
  errors: FormErrors,
  path: Path,
  component: unknown,
  allowed: readonly number[],
  walk: ComponentWalk,
): void {
  if (!checkComponentType(errors, path, component, allowed)) return;
  countComponent(errors, path, component, walk);
  const children = (field: 'components' | 'items', min: number, max: number): readonly unknown[] | null => {
    const value = component[field];
    if (value === undefined || value === null) {
      errors.add([...path, field], 'BASE_TYPE_REQUIRED', 'This field is required');
      return null;
    }
    return checkArray(errors, [...path, field], value, max, min) ? value : null;
  };
  switch (component.type) {
    case 1:
      checkActionRow(errors, path, component, walk);
      return;
    case 2:
      checkButton(errors, path, component);
      return;
    case 9: {
      children('components', 1, 3)?.forEach((child, i) => {
        checkLayoutComponent(errors, [...path, 'components', i], child, CHOICES.sectionChild, walk);
      });
      if (component.accessory === undefined || component.accessory === null)
        errors.add([...path, 'accessory'], 'BASE_TYPE_REQUIRED', 'This field is required');
      else
        checkLayoutComponent(
          errors,
          [...path, 'accessory'],
          component.accessory,
          CHOICES.sectionAccessory,
          walk,
        );
      return;
    }
    case 10:
      checkString(errors, [...path, 'content'], component.content, { max: MAX_V2_TEXT, required: true });
      walk.text += textLength(component.content);
      return;
    case 11:
      checkMedia(errors, [...path, 'media'], component.media);
      checkString(errors, [...path, 'description'], component.description, { max: 1024 });
      checkBoolean(errors, [...path, 'spoiler'], component.spoiler);
      return;
    case 12:
      children('items', 1, 10)?.forEach((item, i) => {
        const itemPath = [...path, 'items', i];
        if (!isObject(item)) {
          errors.add(itemPath, 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
          return;
        }
        checkMedia(errors, [...itemPath, 'media'], item.media);
        checkString(errors, [...itemPath, 'description'], item.description, { max: 1024 });
        checkBoolean(errors, [...itemPath, 'spoiler'], item.spoiler);
      });
      return;
    case 13:
      checkMedia(errors, [...path, 'file'], component.file, true);
      checkBoolean(errors, [...path, 'spoiler'], component.spoiler);
      return;
    case 14:
      checkBoolean(errors, [...path, 'divider'], component.divider);
      if (![undefined, null, 1, 2].includes(component.spacing as number))
        errors.add([...path, 'spacing'], 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2}.');
      return;
    case 17:
      children('components', 1, MAX_V2_COMPONENTS)?.forEach((child, i) => {
        checkLayoutComponent(errors, [...path, 'components', i], child, CHOICES.containerChild, walk);
      });
      checkInteger(errors, [...path, 'accent_color'], component.accent_color, 0, 0xffffff);
      checkBoolean(errors, [...path, 'spoiler'], component.spoiler);
      return;
  }
}

/** Every component, depth first (rows, sections and their accessories, containers and their children). */
export function* walkComponents(components: unknown): Generator<Json> {
  if (!Array.isArray(components)) return;
  for (const component of components) {
    if (!isObject(component)) continue;
    yield component;
    if (Array.isArray(component.components)) yield* walkComponents(component.components);
    if (isObject(component.accessory)) yield* walkComponents([component.accessory]);
    if (isObject(component.component)) yield* walkComponents([component.component]);
  }
}

/** The text of a message's text displays, which is what mentions are read from under components v2. */
export const textDisplayContent = (components: unknown): string =>
  [...walkComponents(components)]
    .filter((component) => component.type === 10 && typeof component.content === 'string')
    .map((component) => component.content as string)
    .join('\n');

function checkMessageComponents(errors: FormErrors, components: unknown, flags: number): void {
  if (!Array.isArray(components)) {
    if (components !== undefined && components !== null)
      errors.add(['components'], 'BASE_TYPE_ARRAY', 'Must be an array.');
    return;
  }
  const seen = new Set<string>();
  for (const component of walkComponents(components)) {
    if (typeof component.custom_id !== 'string') continue;
    if (seen.has(component.custom_id))
      errors.add(
        ['components'],
        'COMPONENT_CUSTOM_ID_DUPLICATED',
        'Component custom id cannot be duplicated',
      );
    seen.add(component.custom_id);
  }
  const walk: ComponentWalk = { count: 0, text: 0, ids: new Set() };
  if ((flags & IS_COMPONENTS_V2) !== 0) {
    components.forEach((component, i) => {
      checkLayoutComponent(errors, ['components', i], component, CHOICES.v2TopLevel, walk);
    });
    // Discord does not publish these two errors' wording; codes and messages follow its style.
    if (walk.count > MAX_V2_COMPONENTS)
      errors.add(
        ['components'],
        'COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED',
        `Must be ${MAX_V2_COMPONENTS} or fewer components in total, nested ones included.`,
      );
    if (walk.text > MAX_V2_TEXT)
      errors.add(
        ['components'],
        'COMPONENT_MAX_TOTAL_TEXT_LENGTH_EXCEEDED',
        `Text displays must hold ${MAX_V2_TEXT} or fewer characters in total.`,
      );
    return;
  }
  checkArray(errors, ['components'], components, 5);
  components.forEach((row, i) => {
    const path = ['components', i];
    if (!checkComponentType(errors, path, row, CHOICES.classicTopLevel)) return;
    countComponent(errors, path, row, walk);
    checkActionRow(errors, path, row, walk);
  });
}

const PARSE_TYPES = new Set(['users', 'roles', 'everyone']);

function checkAllowedMentions(errors: FormErrors, value: unknown): void {
  if (value === undefined || value === null) return;
  if (!isObject(value)) {
    errors.add(['allowed_mentions'], 'MODEL_TYPE_CONVERT', 'Only dictionaries may be used in a ModelType');
    return;
  }
  const parse = Array.isArray(value.parse) ? (value.parse as unknown[]) : [];
  parse.forEach((kind, i) => {
    if (typeof kind !== 'string' || !PARSE_TYPES.has(kind))
      errors.add(
        ['allowed_mentions', 'parse', i],
        'ENUM_TYPE_COERCE',
        `Value "${String(kind)}" is not a valid enum value.`,
      );
  });
  for (const kind of ['users', 'roles'] as const) {
    const ids = value[kind];
    if (checkArray(errors, ['allowed_mentions', kind], ids, 100) && ids.length > 0 && parse.includes(kind))
      errors.add(
        ['allowed_mentions'],
        'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE',
        `parse:["${kind}"] and ${kind}: [ids] are mutually exclusive.`,
      );
  }
}

/** The fields a components-v2 message cannot carry, as they stand (in a request body, or after an edit). */
export interface LegacyFields {
  readonly content?: unknown;
  readonly embeds?: unknown;
  readonly sticker_ids?: unknown;
  readonly poll?: unknown;
}

/**
 * Under IS_COMPONENTS_V2 a message "can only contain components": content, embeds, sticker_ids and poll
 * are refused (Discord's Create Message docs). null, an empty string or an empty array is leaving the
 * field out, which is how an edit clears them to opt a message into components v2.
 */
export function checkLegacyFields(errors: FormErrors, fields: LegacyFields): void {
  const used = (value: unknown): boolean =>
    value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0);
  for (const field of ['content', 'embeds', 'sticker_ids', 'poll'] as const) {
    if (used(fields[field]))
      errors.add(
        [field],
        'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2',
        `The '${field}' field cannot be used when using MessageFlags.IS_COMPONENTS_V2`,
      );
  }
}

/** Validates the message fields of a create, an edit, a webhook message or an interaction reply. */
export function checkMessageBody(errors: FormErrors, body: Json, flags: number): void {
  checkString(errors, ['content'], body.content, { max: 2000 });
  checkEmbeds(errors, body.embeds);
  checkMessageComponents(errors, body.components, flags);
  checkAllowedMentions(errors, body.allowed_mentions);
  if ((flags & IS_COMPONENTS_V2) !== 0) checkLegacyFields(errors, body);
  const nonce = body.nonce;
  if (nonce !== undefined && nonce !== null) {
    if (typeof nonce === 'string') checkString(errors, ['nonce'], nonce, { max: 25 });
    else if (typeof nonce !== 'number' || !Number.isInteger(nonce))
      errors.add(['nonce'], 'BASE_TYPE_STRING', 'Must be a string or an integer.');
  }
}

/** A message with nothing to show: Discord refuses to create (or edit into) one. */
export const isEmptyMessage = (message: {
  content: string;
  embeds: readonly unknown[];
  components: readonly unknown[];
  attachments: readonly unknown[];
  stickerIds?: readonly unknown[];
  poll?: unknown;
}): boolean =>
  message.content.trim() === '' &&
  message.embeds.length === 0 &&
  message.components.length === 0 &&
  message.attachments.length === 0 &&
  (message.stickerIds?.length ?? 0) === 0 &&
  (message.poll === undefined || message.poll === null);

function checkTextInput(errors: FormErrors, path: Path, input: Json, inLabel: boolean): void {
  checkString(errors, [...path, 'custom_id'], input.custom_id, { min: 1, max: 100, required: true });
  if (input.style !== 1 && input.style !== 2)
    errors.add([...path, 'style'], 'BASE_TYPE_CHOICES', 'Value must be one of {1, 2}.');
  if (inLabel) {
    if (input.label !== undefined)
      errors.add(
        [...path, 'label'],
        'TEXT_INPUT_LABEL_NOT_ALLOWED',
        'A text input inside a label cannot have a label',
      );
  } else {
    checkString(errors, [...path, 'label'], input.label, { min: 1, max: 45, required: true });
  }
  checkInteger(errors, [...path, 'min_length'], input.min_length, 0, 4000);
  checkInteger(errors, [...path, 'max_length'], input.max_length, 1, 4000);
  checkString(errors, [...path, 'value'], input.value, { max: 4000 });
  checkString(errors, [...path, 'placeholder'], input.placeholder, { max: 100 });
  if (
    typeof input.min_length === 'number' &&
    typeof input.max_length === 'number' &&
    input.min_length > input.max_length
  )
    errors.add(
      [...path, 'min_length'],
      'BASE_TYPE_BAD_INT',
      'min_length must be less than or equal to max_length',
    );
}

/** Validates a modal (interaction callback type 9), reporting paths under `data`. */
export function checkModal(errors: FormErrors, data: Json): void {
  checkString(errors, ['data', 'custom_id'], data.custom_id, { min: 1, max: 100, required: true });
  checkString(errors, ['data', 'title'], data.title, { min: 1, max: 45, required: true });
  if (!checkArray(errors, ['data', 'components'], data.components, 5, 1)) {
    if (data.components === undefined)
      errors.add(['data', 'components'], 'BASE_TYPE_REQUIRED', 'This field is required');
    return;
  }
  (data.components as unknown[]).forEach((component, i) => {
    const path = ['data', 'components', i];
    if (!isObject(component)) return;
    if (component.type === 1) {
      const children = component.components;
      if (
        !Array.isArray(children) ||
        children.length !== 1 ||
        !isObject(children[0]) ||
        children[0].type !== 4
      ) {
        errors.add(
          [...path, 'components'],
          'COMPONENT_LAYOUT_WIDTH_EXCEEDED',
          'An action row in a modal holds exactly one text input',
        );
        return;
      }
      checkTextInput(errors, [...path, 'components', 0], children[0], false);
    } else if (component.type === 18) {
      checkString(errors, [...path, 'label'], component.label, { min: 1, max: 45, required: true });
      checkString(errors, [...path, 'description'], component.description, { max: 100 });
      const inner = component.component;
      if (!isObject(inner))
        errors.add([...path, 'component'], 'BASE_TYPE_REQUIRED', 'This field is required');
      else if (inner.type === 4) checkTextInput(errors, [...path, 'component'], inner, true);
      else
        checkString(errors, [...path, 'component', 'custom_id'], inner.custom_id, {
          min: 1,
          max: 100,
          required: true,
        });
    } else if (component.type !== 10) {
      errors.add([...path, 'type'], 'COMPONENT_TYPE_INVALID', 'Component type is invalid for this context');
    }
  });
}

/** Who a message would notify: the mentions in its content that `allowed_mentions` lets through. */
export interface MessagePings {
  readonly users: readonly string[];
  readonly roles: readonly string[];
  readonly everyone: boolean;
}

export function pingsOf(content: string, allowedMentions: unknown): MessagePings {
  const users = [...new Set([...content.matchAll(/<@!?(\d{15,25})>/gu)].map((m) => m[1] as string))];
  const roles = [...new Set([...content.matchAll(/<@&(\d{15,25})>/gu)].map((m) => m[1] as string))];
  const everyone = /@(?:everyone|here)\b/u.test(content);
  if (!isObject(allowedMentions)) return { users, roles, everyone };
  const parse = Array.isArray(allowedMentions.parse) ? (allowedMentions.parse as unknown[]) : [];
  const pick = (kind: 'users' | 'roles', found: string[]): string[] => {
    if (parse.includes(kind)) return found;
    const allowed = allowedMentions[kind];
    return Array.isArray(allowed) ? found.filter((id) => allowed.includes(id)) : [];
  };
  return {
    users: pick('users', users),
    roles: pick('roles', roles),
    everyone: everyone && parse.includes('everyone'),
  };
}
