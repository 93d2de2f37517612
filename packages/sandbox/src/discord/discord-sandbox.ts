import { createFaultInjector, type FaultInjector } from '../faults.ts';
import { type RouteHandler, type SandboxRequest, type SandboxResponse, startHttpServer } from '../http.ts';
import { createGatewayHub, type DropOptions, type GatewayStats, Intents } from './gateway.ts';
import {
  BOT_PERMISSIONS,
  createGuildModel,
  DEFAULT_DISCORD_GUILD,
  type DiscordLocale,
  type DiscordSandboxGuildInput,
} from './guild.ts';
import { createSnowflakeGenerator, discordTimestamp, interactionToken } from './ids.ts';
import { discordBody } from './multipart.ts';
import {
  checkLegacyFields,
  checkMessageBody,
  checkModal,
  createFormErrors,
  type DiscordErrorResponse,
  ERRORS,
  IS_COMPONENTS_V2,
  isEmptyMessage,
  type MessagePings,
  pingsOf,
  textDisplayContent,
  walkComponents,
} from './validation.ts';

type Json = Record<string, unknown>;

/** Message flags the stand-in acts on. */
export const DiscordMessageFlag = {
  SuppressEmbeds: 1 << 2,
  HasThread: 1 << 5,
  Ephemeral: 1 << 6,
  Loading: 1 << 7,
  SuppressNotifications: 1 << 12,
  IsComponentsV2: IS_COMPONENTS_V2,
} as const;

export interface DiscordSandboxOptions {
  /** Port to listen on (default: an ephemeral one). */
  readonly port?: number;
  /** The bot token discord.js logs in with (default 'sandbox-discord-token'). */
  readonly botToken?: string;
  /** The application id, also the bot user's id (default '1400000000000000001'). */
  readonly applicationId?: string;
  /** The bot's username (default 'kikimimi'). */
  readonly botUsername?: string;
  /** The one guild the bot is in (default: {@link DEFAULT_DISCORD_GUILD}). */
  readonly guild?: DiscordSandboxGuildInput;
  /** HELLO's heartbeat interval (default 41 250 ms, as Discord). */
  readonly heartbeatIntervalMs?: number;
  /** How long an interaction waits for its callback before it fails (default 3 000 ms, as Discord). */
  readonly interactionResponseWindowMs?: number;
  /** How long an interaction token takes webhook edits and follow-ups (default 15 min, as Discord). */
  readonly interactionTokenLifetimeMs?: number;
  /** How long `enforce_nonce` remembers a nonce (default 5 min: Discord says "the past few minutes"). */
  readonly nonceWindowMs?: number;
  /** The clock for timestamps, ids, nonce windows and token lifetimes (default Date.now). */
  readonly now?: () => number;
  /**
   * Per-channel rate limits on creating and on editing messages (default: off). `true` applies the
   * figures Discord is observed to use, 5 per 5 s per channel for each; see `DiscordChannelRateLimit`.
   */
  readonly channelRateLimit?: boolean | DiscordChannelRateLimit;
}

/** How many requests one channel's bucket takes per window. */
export interface DiscordRateLimitBucket {
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * Per-channel buckets (threads are channels too): `create` for POST /channels/{id}/messages, `edit`
 * for PATCH /channels/{id}/messages/{id}. A bucket left out is not limited. Windows run on the real
 * clock (not the `now` option), since clients wait in real time.
 */
export interface DiscordChannelRateLimit {
  readonly create?: DiscordRateLimitBucket;
  readonly edit?: DiscordRateLimitBucket;
}

/** What `channelRateLimit: true` means: Discord's observed 5 messages per 5 s per channel. */
export const DISCORD_CHANNEL_RATE_LIMIT: DiscordChannelRateLimit = {
  create: { limit: 5, windowMs: 5000 },
  edit: { limit: 5, windowMs: 5000 },
};

/** A thread the bot started from a message, as a test reads it back. */
export interface DiscordSandboxThread {
  readonly id: string;
  readonly parentId: string;
  /** The message it was started from (its id is the thread's id, as on Discord). */
  readonly messageId: string;
  readonly name: string;
  readonly ownerId: string;
  readonly autoArchiveDuration: number;
  readonly messageCount: number;
  readonly createdAt: string;
}

/** One earlier state of a message, kept when it is edited. */
export interface DiscordSandboxMessageVersion {
  readonly content: string;
  readonly embeds: readonly Json[];
  readonly components: readonly Json[];
  readonly flags: number;
  readonly at: string;
}

/** A message the bot (or, through `postAsUser`, a member) made, as a test reads it back (a snapshot). */
export interface DiscordSandboxMessage {
  readonly id: string;
  /** The channel or thread it is in. */
  readonly channelId: string;
  /** The bot's id, or the member's for `postAsUser`. */
  readonly authorId: string;
  /** The thread started from this message, if any. */
  readonly threadId: string | null;
  readonly content: string;
  /** As the bot sent them. */
  readonly embeds: readonly Json[];
  readonly components: readonly Json[];
  readonly attachments: readonly Json[];
  /** `allowed_mentions` as sent with the last create or edit; null when none was sent. */
  readonly allowedMentions: Json | null;
  /** Who the message notified when it was created (mentions in content that allowed_mentions let through). */
  readonly pings: MessagePings;
  readonly flags: number;
  readonly ephemeral: boolean;
  readonly nonce: string | number | null;
  readonly edits: number;
  readonly createdAt: string;
  readonly editedAt: string | null;
  /** Set on interaction responses and follow-ups. */
  readonly interactionId: string | null;
  readonly messageReference: Json | null;
  /** States before each edit, oldest first. */
  readonly history: readonly DiscordSandboxMessageVersion[];
}

/** A text input (or select) of a modal the bot showed. */
export interface DiscordSandboxModalInput {
  readonly customId: string;
  /** Component type: 4 text input, 3/5/6/7/8 selects. */
  readonly type: number;
  readonly label: string | null;
  readonly style: number | null;
  /** The prefilled value. */
  readonly value: string | null;
  readonly placeholder: string | null;
  readonly required: boolean;
  readonly minLength: number | null;
  readonly maxLength: number | null;
}

/** A modal the bot answered an interaction with (callback type 9). */
export interface DiscordSandboxModal {
  readonly interactionId: string;
  readonly userId: string;
  readonly channelId: string;
  /** The message whose component opened it, if any; its submit carries that message. */
  readonly messageId: string | null;
  readonly customId: string;
  readonly title: string;
  /** As the bot sent them. */
  readonly components: readonly Json[];
  readonly inputs: readonly DiscordSandboxModalInput[];
  readonly submissions: number;
}

export type InteractionOutcomeType =
  | 'reply'
  | 'deferred-reply'
  | 'update'
  | 'deferred-update'
  | 'modal'
  | 'failed';

const OUTCOME_TYPES: Readonly<Record<number, InteractionOutcomeType>> = {
  4: 'reply',
  5: 'deferred-reply',
  6: 'deferred-update',
  7: 'update',
  9: 'modal',
};

/** How the bot answered an interaction the test made. */
export interface InteractionOutcome {
  readonly interactionId: string;
  /**
   * reply (4), deferred-reply (5, "thinking…"), deferred-update (6), update (7), modal (9), or
   * failed: no callback within the response window (the user sees "This interaction failed").
   */
  readonly type: InteractionOutcomeType;
  readonly callbackType: number | null;
  /** The callback's `data` as sent (content, embeds, components, flags, allowed_mentions; or a modal). */
  readonly data: Json;
  readonly ephemeral: boolean;
  /** reply / deferred-reply: the new message; update / deferred-update: the message the component is on. */
  readonly message: DiscordSandboxMessage | null;
  readonly modal: DiscordSandboxModal | null;
  /** Why it failed: 'no-gateway-session' (no bot connected) or 'no-response' (the window passed). */
  readonly failure: 'no-gateway-session' | 'no-response' | null;
}

/** One thing the bot did with an interaction token, accepted or refused. */
export interface InteractionResponseRecord {
  readonly kind: 'callback' | 'edit' | 'followup' | 'delete' | 'fetch';
  readonly status: number;
  readonly at: string;
  readonly callbackType: number | null;
  /** '@original' or a message id for edit/delete/fetch. */
  readonly target: string | null;
  readonly body: Json;
  readonly messageId: string | null;
  /** The error Discord would answer with, for refused ones. */
  readonly error: Json | null;
}

export interface DiscordSandboxInteraction {
  readonly id: string;
  readonly kind: 'button' | 'modal-submit';
  readonly customId: string;
  readonly userId: string;
  readonly channelId: string;
  readonly messageId: string | null;
  readonly locale: string;
  readonly createdAt: string;
  readonly callbackType: number | null;
  readonly failed: boolean;
  /** The INTERACTION_CREATE payload as dispatched. */
  readonly payload: Json;
  readonly responses: readonly InteractionResponseRecord[];
}

export interface ClickButtonInput {
  readonly messageId: string;
  readonly customId: string;
  /** A member's id or username. */
  readonly userId: string;
  /** The clicking user's client language (default: the member's, else the guild's). */
  readonly locale?: DiscordLocale;
}

export interface SubmitModalInput {
  readonly customId: string;
  /** A member's id or username. */
  readonly userId: string;
  /** Values by input custom id; inputs left out keep their prefilled value. Arrays for selects. */
  readonly values?: Readonly<Record<string, string | readonly string[]>>;
  /** The message the modal belongs to (default: the one whose button opened it). */
  readonly messageId?: string;
  /** Only for a modal the stand-in never showed (default: the first channel). */
  readonly channelId?: string;
  readonly locale?: DiscordLocale;
}

/** A REST request as the stand-in saw it. */
export interface DiscordSandboxRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: Json;
  readonly status: number;
  /** Set when a fault (or setUnavailable) answered instead of the route. */
  readonly fault: string | null;
  readonly at: string;
}

export type DiscordSandboxGuild = DiscordSandboxGuildInput;

export interface DiscordSandbox {
  /** For `new Client({ rest: { api: apiUrl } })`: `http://127.0.0.1:PORT/api`. */
  readonly apiUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `ws://127.0.0.1:PORT`, what GET /gateway/bot answers. */
  readonly gatewayUrl: string;
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: { readonly id: string; readonly username: string };
  readonly guild: DiscordSandboxGuild;
  /** Faults for REST requests (the interaction callbacks and webhooks included). */
  readonly faults: FaultInjector;
  /** Id of a channel by name (or id); throws for an unknown one. */
  channelId(name: string): string;
  roleId(name: string): string;
  /** Id of a member by username (or id). */
  userId(username: string): string;

  /**
   * Messages (the bot's, and members' from `postAsUser`), oldest first; deleted ones left out, ephemeral
   * ones only when asked for. `channelId` may be a thread's id.
   */
  messages(channelId?: string, options?: { readonly includeEphemeral?: boolean }): DiscordSandboxMessage[];
  message(messageId: string): DiscordSandboxMessage | undefined;
  /** The first message (now or later) for which the predicate holds; rechecked on every change. */
  waitForMessage(
    predicate: (message: DiscordSandboxMessage) => boolean,
    timeoutMs?: number,
  ): Promise<DiscordSandboxMessage>;
  /** Resolves once the message has been edited at least once and the predicate holds. */
  waitForEdit(
    messageId: string,
    predicate?: (message: DiscordSandboxMessage) => boolean,
    timeoutMs?: number,
  ): Promise<DiscordSandboxMessage>;

  /**
   * A member writes in a channel or thread (by id, or a channel by name): the message is stored and
   * MESSAGE_CREATE goes to sessions with the GUILD_MESSAGES intent; sessions without MESSAGE_CONTENT
   * get it with empty content, embeds and attachments, unless it mentions the bot (as on Discord).
   */
  postAsUser(channelOrThreadId: string, userId: string, content: string): DiscordSandboxMessage;
  /** Threads started from messages, oldest first. */
  threads(): DiscordSandboxThread[];
  /** Resolves once a thread has been started from the message. */
  waitForThread(messageId: string, timeoutMs?: number): Promise<DiscordSandboxThread>;
  /** Changes the per-channel rate limits (`false`: off); buckets start afresh. */
  setChannelRateLimit(limits: boolean | DiscordChannelRateLimit): void;

  /** A member clicks a button: INTERACTION_CREATE (type 3) goes out; resolves with the bot's callback. */
  clickButton(input: ClickButtonInput): Promise<InteractionOutcome>;
  /** A member submits a modal the bot showed: INTERACTION_CREATE (type 5); resolves with the callback. */
  submitModal(input: SubmitModalInput): Promise<InteractionOutcome>;
  interactions(): DiscordSandboxInteraction[];
  /** Everything the bot did with one interaction: callback, edits, follow-ups, deletes. */
  interactionResponses(interactionId: string): InteractionResponseRecord[];
  waitForInteractionResponse(
    interactionId: string,
    predicate: (response: InteractionResponseRecord) => boolean,
    timeoutMs?: number,
  ): Promise<InteractionResponseRecord>;
  /** Modals the bot showed, oldest first. */
  modals(): DiscordSandboxModal[];
  requests(): DiscordSandboxRequest[];

  /** Open gateway sockets with a READY or RESUMED session. */
  readonly connectedClients: number;
  waitForConnectedClients(count?: number, timeoutMs?: number): Promise<void>;
  gatewayStats(): GatewayStats;
  /** Cuts gateway connections; clients RESUME (or re-IDENTIFY with `resumable: false`). */
  dropGateway(options?: DropOptions): void;
  /**
   * While on, REST answers 503; with `gateway: true` the gateway also drops every socket and
   * refuses new ones until it is off again.
   */
  setUnavailable(on: boolean, options?: { readonly gateway?: boolean }): void;
  close(): Promise<void>;
}

interface MessageRecord {
  readonly id: string;
  readonly channelId: string;
  readonly authorId: string;
  threadId: string | null;
  content: string;
  embeds: Json[];
  components: Json[];
  attachments: Json[];
  allowedMentions: Json | null;
  readonly pings: MessagePings;
  flags: number;
  readonly nonce: string | number | null;
  readonly tts: boolean;
  edits: number;
  readonly createdAt: number;
  editedAt: number | null;
  readonly interactionId: string | null;
  readonly messageReference: Json | null;
  deleted: boolean;
  readonly history: DiscordSandboxMessageVersion[];
}

interface ThreadRecord {
  readonly id: string;
  readonly parentId: string;
  readonly name: string;
  readonly ownerId: string;
  readonly autoArchiveDuration: number;
  readonly createdAt: number;
  messageCount: number;
  totalMessageSent: number;
  lastMessageId: string | null;
}

const AUTO_ARCHIVE_DURATIONS = [60, 1440, 4320, 10080];

interface InteractionRecord {
  readonly id: string;
  readonly token: string;
  readonly kind: 'button' | 'modal-submit';
  readonly customId: string;
  readonly userId: string;
  readonly channelId: string;
  readonly messageId: string | null;
  readonly locale: string;
  readonly createdAt: number;
  readonly payload: Json;
  callback: { readonly type: number; readonly data: Json } | null;
  originalMessageId: string | null;
  readonly messageIds: Set<string>;
  readonly responses: InteractionResponseRecord[];
  modal: ModalRecord | null;
  failed: boolean;
  settle: ((outcome: InteractionOutcome) => void) | null;
  timer: NodeJS.Timeout | null;
}

interface ModalRecord {
  readonly interactionId: string;
  readonly userId: string;
  readonly channelId: string;
  readonly messageId: string | null;
  readonly customId: string;
  readonly title: string;
  readonly components: Json[];
  submissions: number;
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asObjects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isObject) : []);
const toResponse = (error: DiscordErrorResponse): SandboxResponse => ({
  status: error.status,
  body: error.body,
});
const ok = (body: unknown): SandboxResponse => ({ status: 200, body });
const noContent = (): SandboxResponse => ({ status: 204 });

/** The modal's inputs, flattened, with their labels (from the row's input or the Label component). */
function modalInputs(components: readonly Json[]): DiscordSandboxModalInput[] {
  const inputs: DiscordSandboxModalInput[] = [];
  const add = (input: Json, label: unknown) => {
    if (typeof input.custom_id !== 'string') return;
    inputs.push({
      customId: input.custom_id,
      type: typeof input.type === 'number' ? input.type : 0,
      label: typeof label === 'string' ? label : null,
      style: typeof input.style === 'number' ? input.style : null,
      value: typeof input.value === 'string' ? input.value : null,
      placeholder: typeof input.placeholder === 'string' ? input.placeholder : null,
      required: input.required !== false,
      minLength: typeof input.min_length === 'number' ? input.min_length : null,
      maxLength: typeof input.max_length === 'number' ? input.max_length : null,
    });
  };
  for (const component of components) {
    if (component.type === 1) for (const input of asObjects(component.components)) add(input, input.label);
    else if (component.type === 18 && isObject(component.component))
      add(component.component, component.label);
  }
  return inputs;
}

/** Starts a Discord stand-in (REST + gateway on one port) on 127.0.0.1 that discord.js 14 talks to unchanged. */
export async function startDiscordSandbox(options: DiscordSandboxOptions = {}): Promise<DiscordSandbox> {
  const now = options.now ?? Date.now;
  const token = options.botToken ?? 'sandbox-discord-token';
  const applicationId = options.applicationId ?? '1400000000000000001';
  const botUser = { id: applicationId, username: options.botUsername ?? 'kikimimi' };
  const guildInput = options.guild ?? DEFAULT_DISCORD_GUILD;
  const model = createGuildModel(guildInput, botUser, now());
  const responseWindowMs = options.interactionResponseWindowMs ?? 3000;
  const tokenLifetimeMs = options.interactionTokenLifetimeMs ?? 15 * 60_000;
  const nonceWindowMs = options.nonceWindowMs ?? 5 * 60_000;
  const nextId = createSnowflakeGenerator(now);

  const messages = new Map<string, MessageRecord>();
  const threads = new Map<string, ThreadRecord>();
  const nonces = new Map<string, { messageId: string; at: number }>();
  const interactions = new Map<string, InteractionRecord>();
  const byToken = new Map<string, InteractionRecord>();
  const modals: ModalRecord[] = [];
  const requestLog: DiscordSandboxRequest[] = [];
  const listeners = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();
  /** Rejects the pending waits when the stand-in closes. */
  const cancels = new Set<(error: Error) => void>();
  let restUnavailable = false;
  let gatewayUnavailable = false;
  let wsUrl = '';

  const notify = () => {
    for (const listener of [...listeners]) listener();
  };

  /** Resolves with the first non-undefined value of check(), looked at now and after every change. */
  function waitFor<T>(check: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const first = check();
      if (first !== undefined) {
        resolve(first);
        return;
      }
      const listener = () => {
        const value = check();
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`discord sandbox: timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      const cancel = (error: Error) => {
        done();
        reject(error);
      };
      const done = () => {
        clearTimeout(timer);
        timers.delete(timer);
        listeners.delete(listener);
        cancels.delete(cancel);
      };
      timers.add(timer);
      listeners.add(listener);
      cancels.add(cancel);
    });
  }

  // ---- messages -------------------------------------------------------------------------------

  const snapshot = (record: MessageRecord): DiscordSandboxMessage =>
    structuredClone({
      id: record.id,
      channelId: record.channelId,
      authorId: record.authorId,
      threadId: record.threadId,
      content: record.content,
      embeds: record.embeds,
      components: record.components,
      attachments: record.attachments,
      allowedMentions: record.allowedMentions,
      pings: record.pings,
      flags: record.flags,
      ephemeral: (record.flags & DiscordMessageFlag.Ephemeral) !== 0,
      nonce: record.nonce,
      edits: record.edits,
      createdAt: new Date(record.createdAt).toISOString(),
      editedAt: record.editedAt === null ? null : new Date(record.editedAt).toISOString(),
      interactionId: record.interactionId,
      messageReference: record.messageReference,
      history: record.history,
    });

  /** Where a message's mentions are read from: its content, or its text displays under components v2. */
  const mentionText = (content: string, components: unknown, flags: number): string =>
    (flags & IS_COMPONENTS_V2) === 0 ? content : textDisplayContent(components);

  const messageJson = (record: MessageRecord, extra: Json = {}): Json => {
    const interaction = record.interactionId === null ? undefined : interactions.get(record.interactionId);
    const current = pingsOf(
      mentionText(record.content, record.components, record.flags),
      record.allowedMentions,
    );
    return {
      type: record.messageReference === null ? 0 : 19,
      content: record.content,
      mentions: current.users.map((id) => model.userJson(id)).filter((user) => user !== null),
      mention_roles: [...current.roles],
      attachments: record.attachments,
      embeds: record.embeds.map((embed) => ({ type: 'rich', ...embed })),
      timestamp: discordTimestamp(record.createdAt),
      edited_timestamp: record.editedAt === null ? null : discordTimestamp(record.editedAt),
      flags: record.flags,
      components: record.components,
      id: record.id,
      channel_id: record.channelId,
      author: record.authorId === applicationId ? model.botUserJson() : model.userJson(record.authorId),
      pinned: false,
      mention_everyone: current.everyone,
      tts: record.tts,
      ...(record.messageReference === null
        ? {}
        : { message_reference: { type: 0, ...record.messageReference, channel_id: record.channelId } }),
      ...(record.threadId === null || !threads.has(record.threadId)
        ? {}
        : { thread: threadJson(threads.get(record.threadId) as ThreadRecord) }),
      ...(interaction === undefined
        ? {}
        : {
            application_id: applicationId,
            webhook_id: applicationId,
            interaction_metadata: {
              id: interaction.id,
              type: interaction.kind === 'button' ? 3 : 5,
              user: model.userJson(interaction.userId),
              authorizing_integration_owners: { '0': guildInput.id },
              ...(interaction.originalMessageId !== null && interaction.originalMessageId !== record.id
                ? { original_response_message_id: interaction.originalMessageId }
                : {}),
              ...(interaction.messageId === null ? {} : { interacted_message_id: interaction.messageId }),
            },
          }),
      ...extra,
    };
  };

  const gatewayMessageJson = (record: MessageRecord): Json => ({
    ...messageJson(record),
    guild_id: guildInput.id,
    member: (({ user: _user, ...member }) => member)(model.memberJson(record.authorId) ?? {}),
  });

  /** Discord withholds a member's message content from a bot without MESSAGE_CONTENT unless it mentions the bot. */
  const contentWithheld = (record: MessageRecord, intents: number): boolean =>
    record.authorId !== applicationId &&
    (intents & Intents.MessageContent) === 0 &&
    !new RegExp(`<@!?${applicationId}>`, 'u').test(record.content);

  const announce = (event: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE', record: MessageRecord) => {
    if ((record.flags & DiscordMessageFlag.Ephemeral) !== 0) return;
    if (event === 'MESSAGE_DELETE') {
      gateway.dispatch(
        event,
        { id: record.id, channel_id: record.channelId, guild_id: guildInput.id },
        Intents.GuildMessages,
      );
      return;
    }
    const full = gatewayMessageJson(record);
    const withheld = { ...full, content: '', embeds: [], attachments: [], components: [] };
    gateway.dispatchFor(
      event,
      (intents) => (contentWithheld(record, intents) ? withheld : full),
      Intents.GuildMessages,
    );
  };

  // ---- threads --------------------------------------------------------------------------------

  function threadJson(thread: ThreadRecord): Json {
    return {
      id: thread.id,
      type: 11,
      guild_id: guildInput.id,
      parent_id: thread.parentId,
      owner_id: thread.ownerId,
      name: thread.name,
      last_message_id: thread.lastMessageId,
      rate_limit_per_user: 0,
      message_count: thread.messageCount,
      member_count: 1,
      total_message_sent: thread.totalMessageSent,
      flags: 0,
      thread_metadata: {
        archived: false,
        auto_archive_duration: thread.autoArchiveDuration,
        archive_timestamp: discordTimestamp(thread.createdAt),
        locked: false,
        create_timestamp: discordTimestamp(thread.createdAt),
      },
    };
  }

  const threadSnapshot = (thread: ThreadRecord): DiscordSandboxThread => ({
    id: thread.id,
    parentId: thread.parentId,
    messageId: thread.id,
    name: thread.name,
    ownerId: thread.ownerId,
    autoArchiveDuration: thread.autoArchiveDuration,
    messageCount: thread.messageCount,
    createdAt: new Date(thread.createdAt).toISOString(),
  });

  /** A guild text channel or a thread, by id (threads) or id/name (channels). */
  const channelById = (idOrName: string): { id: string; thread: ThreadRecord | null } | undefined => {
    const thread = threads.get(idOrName);
    if (thread !== undefined) return { id: thread.id, thread };
    const channel = model.channel(idOrName);
    return channel === undefined ? undefined : { id: channel.id, thread: null };
  };

  // ---- per-channel rate limits ----------------------------------------------------------------

  const resolveLimits = (limits: boolean | DiscordChannelRateLimit | undefined): DiscordChannelRateLimit =>
    limits === true ? DISCORD_CHANNEL_RATE_LIMIT : limits === false || limits === undefined ? {} : limits;
  let channelLimits = resolveLimits(options.channelRateLimit);
  const buckets = new Map<string, { remaining: number; resetAt: number }>();
  // Discord names a bucket by an opaque hash shared by the channels of one route; clients key it by channel.
  const BUCKET_HASHES = {
    create: '80c17d2f203122d936070c88c8d10f33',
    edit: '9f1c7b0a4e0b2d6f3a51e2c8d7b64a19',
  };

  /**
   * Spends one request of the channel's bucket. Returns the X-RateLimit headers to send, and a 429
   * (with Retry-After) once the bucket is empty; null when the bucket is not limited.
   */
  function spendChannelBucket(
    kind: 'create' | 'edit',
    channelId: string,
  ): { headers: Record<string, string>; refused: SandboxResponse | null } | null {
    const rule = channelLimits[kind];
    if (rule === undefined) return null;
    const at = Date.now();
    const key = `${kind}:${channelId}`;
    let bucket = buckets.get(key);
    if (bucket === undefined || bucket.resetAt <= at) {
      bucket = { remaining: rule.limit, resetAt: at + rule.windowMs };
      buckets.set(key, bucket);
    }
    const resetAfter = Math.max(0, bucket.resetAt - at) / 1000;
    const refused = bucket.remaining <= 0;
    if (!refused) bucket.remaining--;
    const headers: Record<string, string> = {
      'x-ratelimit-limit': String(rule.limit),
      'x-ratelimit-remaining': String(bucket.remaining),
      'x-ratelimit-reset': (bucket.resetAt / 1000).toFixed(3),
      'x-ratelimit-reset-after': resetAfter.toFixed(3),
      'x-ratelimit-bucket': BUCKET_HASHES[kind],
    };
    if (!refused) return { headers, refused: null };
    return {
      headers,
      refused: {
        status: 429,
        headers: {
          ...headers,
          'retry-after': String(Math.ceil(resetAfter)),
          'x-ratelimit-scope': 'user',
        },
        body: {
          message: 'You are being rate limited.',
          retry_after: Number(resetAfter.toFixed(3)),
          global: false,
        },
      },
    };
  }

  /** Runs a handler inside the channel's bucket, adding the bucket's headers to its answer. */
  const limitedByChannel =
    (kind: 'create' | 'edit', handler: RouteHandler): RouteHandler =>
    async (request) => {
      const target = channelById(request.params.channelId ?? '');
      const spent = target === undefined ? null : spendChannelBucket(kind, target.id);
      if (spent?.refused) return spent.refused;
      const result = await handler(request);
      return spent === null ? result : { ...result, headers: { ...spent.headers, ...result.headers } };
    };

  const liveMessage = (messageId: string): MessageRecord | undefined => {
    const record = messages.get(messageId);
    return record === undefined || record.deleted ? undefined : record;
  };

  /** Validates a create body; null when Discord would accept it. */
  function checkCreate(body: Json, flags: number, files: number): DiscordErrorResponse | null {
    const errors = createFormErrors();
    checkMessageBody(errors, body, flags);
    const invalid = errors.response();
    if (invalid !== null) return invalid;
    const empty = isEmptyMessage({
      content: typeof body.content === 'string' ? body.content : '',
      embeds: asObjects(body.embeds),
      components: asObjects(body.components),
      attachments: files > 0 ? [files] : [],
      stickerIds: Array.isArray(body.sticker_ids) ? body.sticker_ids : [],
      poll: body.poll,
    });
    return empty ? ERRORS.emptyMessage() : null;
  }

  function createMessage(
    channelId: string,
    body: Json,
    files: readonly { filename: string; size: number }[],
    extra: { flags: number; interactionId: string | null; authorId?: string },
  ): MessageRecord {
    const at = now();
    const content = typeof body.content === 'string' ? body.content : '';
    const allowedMentions = isObject(body.allowed_mentions) ? body.allowed_mentions : null;
    const id = nextId();
    const record: MessageRecord = {
      id,
      channelId,
      authorId: extra.authorId ?? applicationId,
      threadId: null,
      content,
      embeds: asObjects(body.embeds),
      components: asObjects(body.components),
      attachments: files.map((file, i) => ({
        id: `${BigInt(id) + BigInt(i + 1)}`,
        filename: file.filename,
        size: file.size,
        url: `https://cdn.discordapp.com/attachments/${channelId}/${id}/${file.filename}`,
        proxy_url: `https://media.discordapp.net/attachments/${channelId}/${id}/${file.filename}`,
      })),
      allowedMentions,
      pings:
        (extra.flags & DiscordMessageFlag.Ephemeral) === 0
          ? pingsOf(mentionText(content, body.components, extra.flags), allowedMentions)
          : pingsOf('', null),
      flags: extra.flags,
      nonce: typeof body.nonce === 'string' || typeof body.nonce === 'number' ? body.nonce : null,
      tts: body.tts === true,
      edits: 0,
      createdAt: at,
      editedAt: null,
      interactionId: extra.interactionId,
      messageReference: isObject(body.message_reference) ? body.message_reference : null,
      deleted: false,
      history: [],
    };
    messages.set(id, record);
    if (record.nonce !== null) nonces.set(`${channelId}:${record.nonce}`, { messageId: id, at });
    const thread = threads.get(channelId);
    if (thread !== undefined && (extra.flags & DiscordMessageFlag.Ephemeral) === 0) {
      thread.messageCount++;
      thread.totalMessageSent++;
      thread.lastMessageId = id;
    }
    announce('MESSAGE_CREATE', record);
    notify();
    return record;
  }

  /** The fields of an edit body that change the message, validated against the result. */
  function applyEdit(record: MessageRecord, body: Json): DiscordErrorResponse | null {
    // An edit may set and unset SUPPRESS_EMBEDS; IS_COMPONENTS_V2 "can only be set": once on, it stays
    // whatever the edit sends (Discord's Edit Message docs). Other flags are ignored.
    let flags = record.flags;
    if (typeof body.flags === 'number') {
      flags = (flags & ~DiscordMessageFlag.SuppressEmbeds) | (body.flags & DiscordMessageFlag.SuppressEmbeds);
      flags |= body.flags & IS_COMPONENTS_V2;
    }
    const errors = createFormErrors();
    checkMessageBody(errors, body, flags);
    const invalid = errors.response();
    if (invalid !== null) return invalid;
    const next = {
      content: 'content' in body ? (typeof body.content === 'string' ? body.content : '') : record.content,
      embeds: 'embeds' in body ? asObjects(body.embeds) : record.embeds,
      components: 'components' in body ? asObjects(body.components) : record.components,
      attachments: Array.isArray(body.attachments) ? asObjects(body.attachments) : record.attachments,
    };
    if ((flags & IS_COMPONENTS_V2) !== 0) {
      // What the message holds after the edit counts: a classic message opts in only when the same edit
      // clears its content and embeds (set to null, or empty).
      const legacy = createFormErrors();
      checkLegacyFields(legacy, next);
      const refused = legacy.response();
      if (refused !== null) return refused;
    }
    if (isEmptyMessage(next)) return ERRORS.emptyMessage();
    record.history.push(
      structuredClone({
        content: record.content,
        embeds: record.embeds,
        components: record.components,
        flags: record.flags,
        at: new Date(record.editedAt ?? record.createdAt).toISOString(),
      }),
    );
    record.content = next.content;
    record.embeds = next.embeds;
    record.components = next.components;
    record.attachments = next.attachments;
    if ('allowed_mentions' in body)
      record.allowedMentions = isObject(body.allowed_mentions) ? body.allowed_mentions : null;
    record.flags = flags & ~DiscordMessageFlag.Loading;
    record.edits++;
    record.editedAt = now();
    announce('MESSAGE_UPDATE', record);
    notify();
    return null;
  }

  // ---- interactions ---------------------------------------------------------------------------

  const interactionSnapshot = (record: InteractionRecord): DiscordSandboxInteraction =>
    structuredClone({
      id: record.id,
      kind: record.kind,
      customId: record.customId,
      userId: record.userId,
      channelId: record.channelId,
      messageId: record.messageId,
      locale: record.locale,
      createdAt: new Date(record.createdAt).toISOString(),
      callbackType: record.callback?.type ?? null,
      failed: record.failed,
      payload: record.payload,
      responses: record.responses,
    });

  const modalSnapshot = (modal: ModalRecord): DiscordSandboxModal =>
    structuredClone({
      interactionId: modal.interactionId,
      userId: modal.userId,
      channelId: modal.channelId,
      messageId: modal.messageId,
      customId: modal.customId,
      title: modal.title,
      components: modal.components,
      inputs: modalInputs(modal.components),
      submissions: modal.submissions,
    });

  const respond = (
    interaction: InteractionRecord,
    response: Omit<InteractionResponseRecord, 'at' | 'error'>,
    result: SandboxResponse,
  ): SandboxResponse => {
    interaction.responses.push(
      structuredClone({
        ...response,
        at: new Date(now()).toISOString(),
        error: result.status >= 400 && isObject(result.body) ? result.body : null,
      }),
    );
    notify();
    return result;
  };

  const settle = (interaction: InteractionRecord, outcome: InteractionOutcome) => {
    if (interaction.timer !== null) {
      clearTimeout(interaction.timer);
      timers.delete(interaction.timer);
      interaction.timer = null;
    }
    const resolve = interaction.settle;
    interaction.settle = null;
    resolve?.(outcome);
  };

  const failedOutcome = (
    interactionId: string,
    failure: 'no-gateway-session' | 'no-response',
  ): InteractionOutcome => ({
    interactionId,
    type: 'failed',
    callbackType: null,
    data: {},
    ephemeral: false,
    message: null,
    modal: null,
    failure,
  });

  const resolveMember = (idOrUsername: string) => {
    const member = model.member(idOrUsername);
    if (member === undefined) throw new Error(`discord sandbox: no member "${idOrUsername}" in the guild`);
    return member;
  };

  function startInteraction(input: {
    kind: 'button' | 'modal-submit';
    customId: string;
    userId: string;
    channelId: string;
    message: MessageRecord | null;
    locale: string;
    data: Json;
  }): Promise<InteractionOutcome> {
    const id = nextId();
    const interactionTokenValue = interactionToken(id);
    const permissions = model.memberPermissions(input.userId);
    const payload: Json = {
      app_permissions: BOT_PERMISSIONS.toString(),
      application_id: applicationId,
      attachment_size_limit: 10_485_760,
      authorizing_integration_owners: { '0': guildInput.id },
      channel: { ...model.channelJson(input.channelId), permissions },
      channel_id: input.channelId,
      context: 0,
      data: input.data,
      entitlement_sku_ids: [],
      entitlements: [],
      guild: { features: [], id: guildInput.id, locale: guildInput.locale },
      guild_id: guildInput.id,
      guild_locale: guildInput.locale,
      id,
      locale: input.locale,
      member: { ...model.memberJson(input.userId), permissions },
      ...(input.message === null ? {} : { message: messageJson(input.message) }),
      token: interactionTokenValue,
      type: input.kind === 'button' ? 3 : 5,
      version: 1,
    };
    const record: InteractionRecord = {
      id,
      token: interactionTokenValue,
      kind: input.kind,
      customId: input.customId,
      userId: input.userId,
      channelId: input.channelId,
      messageId: input.message?.id ?? null,
      locale: input.locale,
      createdAt: now(),
      payload,
      callback: null,
      originalMessageId: null,
      messageIds: new Set(),
      responses: [],
      modal: null,
      failed: false,
      settle: null,
      timer: null,
    };
    interactions.set(id, record);
    byToken.set(interactionTokenValue, record);
    return new Promise<InteractionOutcome>((resolve) => {
      record.settle = resolve;
      if (gateway.dispatch('INTERACTION_CREATE', payload) === 0) {
        record.failed = true;
        settle(record, failedOutcome(id, 'no-gateway-session'));
        return;
      }
      record.timer = setTimeout(() => {
        record.failed = true;
        record.timer = null;
        settle(record, failedOutcome(id, 'no-response'));
        notify();
      }, responseWindowMs);
      timers.add(record.timer);
      notify();
    });
  }

  async function clickButton(input: ClickButtonInput): Promise<InteractionOutcome> {
    const member = resolveMember(input.userId);
    const message = liveMessage(input.messageId);
    if (message === undefined) throw new Error(`discord sandbox: no message ${input.messageId} to click on`);
    if ((message.flags & DiscordMessageFlag.Ephemeral) !== 0) {
      const owner = message.interactionId === null ? undefined : interactions.get(message.interactionId);
      if (owner?.userId !== member.id)
        throw new Error(`discord sandbox: ${member.username} cannot see ephemeral message ${message.id}`);
    }
    const button = [...walkComponents(message.components)].find(
      (component) => component.type === 2 && component.custom_id === input.customId,
    );
    if (button === undefined)
      throw new Error(
        `discord sandbox: message ${message.id} has no button with custom_id "${input.customId}"`,
      );
    if (button.disabled === true)
      throw new Error(`discord sandbox: button "${input.customId}" on message ${message.id} is disabled`);
    return startInteraction({
      kind: 'button',
      customId: input.customId,
      userId: member.id,
      channelId: message.channelId,
      message,
      locale: input.locale ?? member.locale ?? guildInput.locale,
      data: {
        component_type: 2,
        custom_id: input.customId,
        ...(typeof button.id === 'number' ? { id: button.id } : {}),
      },
    });
  }

  async function submitModal(input: SubmitModalInput): Promise<InteractionOutcome> {
    const member = resolveMember(input.userId);
    const values = input.values ?? {};
    const shown = modals.filter((modal) => modal.customId === input.customId);
    const modal = shown.filter((m) => m.userId === member.id).at(-1);
    if (modal === undefined && shown.length > 0)
      throw new Error(
        `discord sandbox: modal "${input.customId}" was shown to someone else, not ${member.username}`,
      );

    let nextComponentId = 1;
    const componentId = (component: Json): number => {
      const id = typeof component.id === 'number' ? component.id : nextComponentId;
      nextComponentId = Math.max(nextComponentId, id) + 1;
      return id;
    };
    const used = new Set<string>();
    const submitted = (component: Json): Json => {
      const customId = String(component.custom_id);
      used.add(customId);
      const given = values[customId];
      if (component.type !== 4) {
        const picked = given === undefined ? [] : typeof given === 'string' ? [given] : [...given];
        if (component.required !== false && picked.length === 0)
          throw new Error(`discord sandbox: modal input "${customId}" is required`);
        return { type: component.type, id: componentId(component), custom_id: customId, values: picked };
      }
      if (given !== undefined && typeof given !== 'string')
        throw new Error(`discord sandbox: text input "${customId}" takes a string`);
      const value = given ?? (typeof component.value === 'string' ? component.value : '');
      const length = [...value].length;
      if (value === '' && component.required !== false)
        throw new Error(
          `discord sandbox: modal input "${customId}" is required; Discord would not submit it empty`,
        );
      if (value !== '' && typeof component.min_length === 'number' && length < component.min_length)
        throw new Error(`discord sandbox: "${customId}" needs at least ${component.min_length} characters`);
      const max = typeof component.max_length === 'number' ? component.max_length : 4000;
      if (length > max) throw new Error(`discord sandbox: "${customId}" takes at most ${max} characters`);
      return { type: 4, id: componentId(component), custom_id: customId, value };
    };

    let components: Json[];
    if (modal === undefined) {
      components = Object.entries(values).map(([customId, value]) => ({
        type: 1,
        id: nextComponentId++,
        components: [
          {
            type: 4,
            id: nextComponentId++,
            custom_id: customId,
            value: typeof value === 'string' ? value : value.join(','),
          },
        ],
      }));
    } else {
      components = modal.components.map((component) => {
        if (component.type === 1)
          return {
            type: 1,
            id: componentId(component),
            components: asObjects(component.components).map((child) => submitted(child)),
          };
        if (component.type === 18 && isObject(component.component))
          return { type: 18, id: componentId(component), component: submitted(component.component) };
        return { type: component.type, id: componentId(component) };
      });
      const unknown = Object.keys(values).filter((key) => !used.has(key));
      if (unknown.length > 0)
        throw new Error(
          `discord sandbox: modal "${input.customId}" has no input ${unknown.map((k) => `"${k}"`).join(', ')}`,
        );
      modal.submissions++;
    }

    const messageId = input.messageId ?? modal?.messageId ?? null;
    const message = messageId === null ? null : (liveMessage(messageId) ?? null);
    if (messageId !== null && message === null)
      throw new Error(`discord sandbox: the modal's message ${messageId} is gone`);
    const channelId =
      modal?.channelId ??
      message?.channelId ??
      (input.channelId ? model.channel(input.channelId)?.id : undefined);
    const fallbackChannel = guildInput.channels[0]?.id;
    if (channelId === undefined && fallbackChannel === undefined)
      throw new Error('discord sandbox: no channel');
    return startInteraction({
      kind: 'modal-submit',
      customId: input.customId,
      userId: member.id,
      channelId: (channelId ?? fallbackChannel) as string,
      message,
      locale: input.locale ?? member.locale ?? guildInput.locale,
      data: { custom_id: input.customId, components },
    });
  }

  // ---- REST -----------------------------------------------------------------------------------

  const bodyOf = (request: SandboxRequest) => {
    const type = request.headers['content-type'];
    return discordBody(request.body, typeof type === 'string' ? type : undefined);
  };

  const callbackHandler: RouteHandler = (request) => {
    const interaction = interactions.get(request.params.interactionId ?? '');
    if (interaction === undefined) return toResponse(ERRORS.unknownInteraction());
    const { json } = bodyOf(request);
    const type = typeof json.type === 'number' ? json.type : null;
    const data = isObject(json.data) ? json.data : {};
    const record = (result: SandboxResponse, messageId: string | null = null) =>
      respond(
        interaction,
        { kind: 'callback', status: result.status, callbackType: type, target: null, body: json, messageId },
        result,
      );
    if (request.params.token !== interaction.token) return record(toResponse(ERRORS.invalidWebhookToken()));
    if (interaction.callback !== null) return record(toResponse(ERRORS.alreadyAcknowledged()));
    if (interaction.failed) return record(toResponse(ERRORS.unknownInteraction()));

    const allowed =
      interaction.kind === 'button'
        ? [4, 5, 6, 7, 9]
        : interaction.messageId === null
          ? [4, 5]
          : [4, 5, 6, 7];
    if (type === null || !allowed.includes(type)) {
      const errors = createFormErrors();
      errors.add(
        ['type'],
        'INTERACTION_RESPONSE_TYPE_INVALID',
        'Interaction response type is invalid for this interaction',
      );
      return record(toResponse(errors.response() as DiscordErrorResponse));
    }

    let message: MessageRecord | null = null;
    let modal: ModalRecord | null = null;
    const dataFlags = typeof data.flags === 'number' ? data.flags : 0;
    if (type === 4 || type === 5) {
      const flags =
        type === 5 ? (dataFlags & DiscordMessageFlag.Ephemeral) | DiscordMessageFlag.Loading : dataFlags;
      if (type === 4) {
        const invalid = checkCreate(data, flags, 0);
        if (invalid !== null) return record(toResponse(invalid));
      }
      message = createMessage(interaction.channelId, type === 4 ? data : {}, [], {
        flags,
        interactionId: interaction.id,
      });
      interaction.originalMessageId = message.id;
      interaction.messageIds.add(message.id);
    } else if (type === 6 || type === 7) {
      message = liveMessage(interaction.messageId ?? '') ?? null;
      if (message === null) return record(toResponse(ERRORS.unknownMessage()));
      if (type === 7) {
        const invalid = applyEdit(message, data);
        if (invalid !== null) return record(toResponse(invalid));
      }
      interaction.originalMessageId = message.id;
    } else {
      const errors = createFormErrors();
      checkModal(errors, data);
      const invalid = errors.response();
      if (invalid !== null) return record(toResponse(invalid));
      modal = {
        interactionId: interaction.id,
        userId: interaction.userId,
        channelId: interaction.channelId,
        messageId: interaction.messageId,
        customId: String(data.custom_id),
        title: String(data.title),
        components: asObjects(data.components),
        submissions: 0,
      };
      modals.push(modal);
      interaction.modal = modal;
    }
    interaction.callback = { type, data };
    const ephemeral = (type === 4 || type === 5) && (dataFlags & DiscordMessageFlag.Ephemeral) !== 0;
    settle(interaction, {
      interactionId: interaction.id,
      type: OUTCOME_TYPES[type] as InteractionOutcomeType,
      callbackType: type,
      data: structuredClone(data),
      ephemeral,
      message: message === null ? null : snapshot(message),
      modal: modal === null ? null : modalSnapshot(modal),
      failure: null,
    });
    const result: SandboxResponse =
      request.query.get('with_response') === 'true'
        ? ok({
            interaction: {
              id: interaction.id,
              type: interaction.kind === 'button' ? 3 : 5,
              activity_instance_id: null,
              response_message_id: type === 9 ? null : (message?.id ?? null),
              response_message_loading: type === 5,
              response_message_ephemeral: ephemeral,
            },
            resource: {
              type,
              ...(message === null || type === 6 ? {} : { message: messageJson(message) }),
            },
          })
        : noContent();
    return record(result, message?.id ?? null);
  };

  /** The interaction a webhook URL's token belongs to, or the error Discord answers with. */
  const webhookInteraction = (request: SandboxRequest): InteractionRecord | DiscordErrorResponse => {
    if (request.params.applicationId !== applicationId) return ERRORS.unknownWebhook();
    const interaction = byToken.get(request.params.token ?? '');
    if (interaction === undefined) return ERRORS.unknownWebhook();
    if (now() - interaction.createdAt > tokenLifetimeMs) return ERRORS.invalidWebhookToken();
    return interaction;
  };

  const webhookTarget = (interaction: InteractionRecord, target: string): MessageRecord | null => {
    if (target === '@original')
      return interaction.originalMessageId === null
        ? null
        : (liveMessage(interaction.originalMessageId) ?? null);
    return interaction.messageIds.has(target) ? (liveMessage(target) ?? null) : null;
  };

  const followupHandler: RouteHandler = (request) => {
    const interaction = webhookInteraction(request);
    if (!('token' in interaction)) return toResponse(interaction);
    const { json, files } = bodyOf(request);
    const record = (result: SandboxResponse, messageId: string | null = null) =>
      respond(
        interaction,
        { kind: 'followup', status: result.status, callbackType: null, target: null, body: json, messageId },
        result,
      );
    if (interaction.callback === null) return record(toResponse(ERRORS.unknownWebhook()));
    const flags = typeof json.flags === 'number' ? json.flags : 0;
    const invalid = checkCreate(json, flags, files.length);
    if (invalid !== null) return record(toResponse(invalid));
    const message = createMessage(interaction.channelId, json, files, {
      flags,
      interactionId: interaction.id,
    });
    interaction.messageIds.add(message.id);
    return record(request.query.get('wait') === 'true' ? ok(messageJson(message)) : noContent(), message.id);
  };

  const webhookMessageHandler =
    (kind: 'edit' | 'delete' | 'fetch'): RouteHandler =>
    (request) => {
      const interaction = webhookInteraction(request);
      if (!('token' in interaction)) return toResponse(interaction);
      const target = request.params.messageId ?? '';
      const { json } = bodyOf(request);
      const message = webhookTarget(interaction, target);
      const record = (result: SandboxResponse) =>
        respond(
          interaction,
          {
            kind,
            status: result.status,
            callbackType: null,
            target,
            body: json,
            messageId: message?.id ?? null,
          },
          result,
        );
      if (message === null) return record(toResponse(ERRORS.unknownMessage()));
      if (kind === 'fetch') return record(ok(messageJson(message)));
      if (kind === 'delete') {
        message.deleted = true;
        announce('MESSAGE_DELETE', message);
        notify();
        return record(noContent());
      }
      const invalid = applyEdit(message, json);
      return record(invalid === null ? ok(messageJson(message)) : toResponse(invalid));
    };

  const channelOf = (request: SandboxRequest) => channelById(request.params.channelId ?? '');
  const channelMessage = (request: SandboxRequest): MessageRecord | null => {
    const message = liveMessage(request.params.messageId ?? '');
    if (message === undefined || message.channelId !== request.params.channelId) return null;
    return (message.flags & DiscordMessageFlag.Ephemeral) === 0 ? message : null;
  };

  const createHandler: RouteHandler = (request) => {
    const channel = channelOf(request);
    if (channel === undefined) return toResponse(ERRORS.unknownChannel());
    const { json, files } = bodyOf(request);
    const flags = typeof json.flags === 'number' ? json.flags : 0;
    const invalid = checkCreate(json, flags, files.length);
    if (invalid !== null) return toResponse(invalid);
    if (json.enforce_nonce === true && (typeof json.nonce === 'string' || typeof json.nonce === 'number')) {
      const seen = nonces.get(`${channel.id}:${json.nonce}`);
      const earlier = seen === undefined ? undefined : messages.get(seen.messageId);
      if (seen !== undefined && earlier !== undefined && now() - seen.at <= nonceWindowMs)
        return ok(messageJson(earlier, { nonce: earlier.nonce }));
    }
    const message = createMessage(channel.id, json, files, {
      flags:
        flags &
        (DiscordMessageFlag.SuppressEmbeds | DiscordMessageFlag.SuppressNotifications | IS_COMPONENTS_V2),
      interactionId: null,
    });
    return ok(messageJson(message, message.nonce === null ? {} : { nonce: message.nonce }));
  };

  /** POST /channels/{channel.id}/messages/{message.id}/threads: a public thread (type 11) whose id is the message's. */
  const startThreadHandler: RouteHandler = (request) => {
    const channel = channelOf(request);
    if (channel === undefined) return toResponse(ERRORS.unknownChannel());
    if (channel.thread !== null) return toResponse(ERRORS.wrongChannelType());
    const message = channelMessage(request);
    if (message === null) return toResponse(ERRORS.unknownMessage());
    const { json } = bodyOf(request);
    const errors = createFormErrors();
    if (json.name === undefined || json.name === null)
      errors.add(['name'], 'BASE_TYPE_REQUIRED', 'This field is required');
    else if (typeof json.name !== 'string') errors.add(['name'], 'BASE_TYPE_STRING', 'Must be a string.');
    else if ([...json.name].length < 1 || [...json.name].length > 100)
      errors.add(['name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    const duration = json.auto_archive_duration ?? 4320;
    if (typeof duration !== 'number' || !AUTO_ARCHIVE_DURATIONS.includes(duration))
      errors.add(
        ['auto_archive_duration'],
        'BASE_TYPE_CHOICES',
        `Value must be one of {${AUTO_ARCHIVE_DURATIONS.join(', ')}}.`,
      );
    const invalid = errors.response();
    if (invalid !== null) return toResponse(invalid);
    if (message.threadId !== null) return toResponse(ERRORS.threadAlreadyCreated());
    const thread: ThreadRecord = {
      id: message.id,
      parentId: channel.id,
      name: json.name as string,
      ownerId: applicationId,
      autoArchiveDuration: duration as number,
      createdAt: now(),
      messageCount: 0,
      totalMessageSent: 0,
      lastMessageId: null,
    };
    threads.set(thread.id, thread);
    message.threadId = thread.id;
    message.flags |= DiscordMessageFlag.HasThread;
    const member = {
      id: thread.id,
      user_id: applicationId,
      join_timestamp: discordTimestamp(thread.createdAt),
      flags: 1,
    };
    gateway.dispatch('THREAD_CREATE', { ...threadJson(thread), newly_created: true, member }, Intents.Guilds);
    notify();
    return { status: 201, body: threadJson(thread) };
  };

  const listHandler: RouteHandler = (request) => {
    const channel = channelOf(request);
    if (channel === undefined) return toResponse(ERRORS.unknownChannel());
    const limit = Math.min(Math.max(Number(request.query.get('limit') ?? 50) || 50, 1), 100);
    const before = request.query.get('before');
    const after = request.query.get('after');
    let list = [...messages.values()].filter(
      (m) => m.channelId === channel.id && !m.deleted && (m.flags & DiscordMessageFlag.Ephemeral) === 0,
    );
    if (before !== null) list = list.filter((m) => BigInt(m.id) < BigInt(before));
    if (after !== null) list = list.filter((m) => BigInt(m.id) > BigInt(after)).slice(0, limit);
    return ok(
      list
        .slice(-limit)
        .reverse()
        .map((m) => messageJson(m)),
    );
  };

  const guildMembersJson = (): Json[] =>
    [...guildInput.members.map((m) => m.id), applicationId].map((id) => model.memberJson(id) as Json);

  const routes: Array<{ method: string; path: string; handler: RouteHandler; auth: boolean }> = [
    {
      method: 'GET',
      path: '/gateway',
      auth: false,
      handler: () => ok({ url: wsUrl }),
    },
    {
      method: 'GET',
      path: '/gateway/bot',
      auth: true,
      handler: () =>
        ok({
          url: wsUrl,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
        }),
    },
    {
      method: 'GET',
      path: '/users/@me',
      auth: true,
      handler: () =>
        ok({ ...model.botUserJson(), verified: true, mfa_enabled: false, locale: 'en-US', email: null }),
    },
    {
      method: 'GET',
      path: '/users/:userId',
      auth: true,
      handler: (request) => {
        const user = model.userJson(request.params.userId ?? '');
        return user === null ? toResponse(ERRORS.unknownUser()) : ok(user);
      },
    },
    {
      method: 'GET',
      path: '/applications/@me',
      auth: true,
      handler: () =>
        ok({
          id: applicationId,
          name: botUser.username,
          icon: null,
          description: '',
          summary: '',
          type: null,
          hook: true,
          bot_public: false,
          bot_require_code_grant: false,
          verify_key: '0'.repeat(64),
          flags: 0,
          owner: model.userJson(guildInput.members[0]?.id ?? applicationId),
          team: null,
          bot: model.botUserJson(),
          approximate_guild_count: 1,
          approximate_user_install_count: 0,
          integration_types_config: { '0': {} },
          interactions_endpoint_url: null,
          role_connections_verification_url: null,
          event_webhooks_url: null,
          event_webhooks_status: 1,
          redirect_uris: [],
          tags: [],
        }),
    },
    {
      method: 'GET',
      path: '/guilds/:guildId',
      auth: true,
      handler: (request) =>
        request.params.guildId === guildInput.id ? ok(model.guildJson()) : toResponse(ERRORS.unknownGuild()),
    },
    {
      method: 'GET',
      path: '/guilds/:guildId/channels',
      auth: true,
      handler: (request) =>
        request.params.guildId === guildInput.id
          ? ok(guildInput.channels.map((c) => model.channelJson(c.id)))
          : toResponse(ERRORS.unknownGuild()),
    },
    {
      method: 'GET',
      path: '/guilds/:guildId/roles',
      auth: true,
      handler: (request) =>
        request.params.guildId === guildInput.id ? ok(model.rolesJson()) : toResponse(ERRORS.unknownGuild()),
    },
    {
      method: 'GET',
      path: '/guilds/:guildId/members',
      auth: true,
      handler: (request) => {
        if (request.params.guildId !== guildInput.id) return toResponse(ERRORS.unknownGuild());
        const limit = Math.min(Math.max(Number(request.query.get('limit') ?? 1) || 1, 1), 1000);
        const after = BigInt(request.query.get('after') ?? '0');
        const list = guildMembersJson()
          .filter((m) => BigInt(String((m.user as Json).id)) > after)
          .sort((a, b) =>
            BigInt(String((a.user as Json).id)) < BigInt(String((b.user as Json).id)) ? -1 : 1,
          );
        return ok(list.slice(0, limit));
      },
    },
    {
      method: 'GET',
      path: '/guilds/:guildId/members/:userId',
      auth: true,
      handler: (request) => {
        if (request.params.guildId !== guildInput.id) return toResponse(ERRORS.unknownGuild());
        const member = model.memberJson(request.params.userId ?? '');
        return member === null ? toResponse(ERRORS.unknownMember()) : ok(member);
      },
    },
    {
      method: 'GET',
      path: '/channels/:channelId',
      auth: true,
      handler: (request) => {
        const thread = threads.get(request.params.channelId ?? '');
        if (thread !== undefined) return ok(threadJson(thread));
        const channel = model.channelJson(request.params.channelId ?? '');
        return channel === null ? toResponse(ERRORS.unknownChannel()) : ok(channel);
      },
    },
    { method: 'GET', path: '/channels/:channelId/messages', auth: true, handler: listHandler },
    {
      method: 'POST',
      path: '/channels/:channelId/messages',
      auth: true,
      handler: limitedByChannel('create', createHandler),
    },
    {
      method: 'POST',
      path: '/channels/:channelId/messages/:messageId/threads',
      auth: true,
      handler: startThreadHandler,
    },
    {
      method: 'GET',
      path: '/channels/:channelId/messages/:messageId',
      auth: true,
      handler: (request) => {
        if (channelOf(request) === undefined) return toResponse(ERRORS.unknownChannel());
        const message = channelMessage(request);
        return message === null ? toResponse(ERRORS.unknownMessage()) : ok(messageJson(message));
      },
    },
    {
      method: 'PATCH',
      path: '/channels/:channelId/messages/:messageId',
      auth: true,
      handler: limitedByChannel('edit', (request) => {
        if (channelOf(request) === undefined) return toResponse(ERRORS.unknownChannel());
        const message = channelMessage(request);
        if (message === null) return toResponse(ERRORS.unknownMessage());
        const { json } = bodyOf(request);
        const invalid = applyEdit(message, json);
        return invalid === null ? ok(messageJson(message)) : toResponse(invalid);
      }),
    },
    {
      method: 'DELETE',
      path: '/channels/:channelId/messages/:messageId',
      auth: true,
      handler: (request) => {
        if (channelOf(request) === undefined) return toResponse(ERRORS.unknownChannel());
        const message = channelMessage(request);
        if (message === null) return toResponse(ERRORS.unknownMessage());
        message.deleted = true;
        announce('MESSAGE_DELETE', message);
        notify();
        return noContent();
      },
    },
    {
      method: 'POST',
      path: '/channels/:channelId/typing',
      auth: true,
      handler: (request) =>
        channelOf(request) === undefined ? toResponse(ERRORS.unknownChannel()) : noContent(),
    },
    {
      method: 'POST',
      path: '/interactions/:interactionId/:token/callback',
      auth: false,
      handler: callbackHandler,
    },
    { method: 'POST', path: '/webhooks/:applicationId/:token', auth: false, handler: followupHandler },
    {
      method: 'GET',
      path: '/webhooks/:applicationId/:token/messages/:messageId',
      auth: false,
      handler: webhookMessageHandler('fetch'),
    },
    {
      method: 'PATCH',
      path: '/webhooks/:applicationId/:token/messages/:messageId',
      auth: false,
      handler: webhookMessageHandler('edit'),
    },
    {
      method: 'DELETE',
      path: '/webhooks/:applicationId/:token/messages/:messageId',
      auth: false,
      handler: webhookMessageHandler('delete'),
    },
  ];

  const logRequest = (
    request: { method: string; path: string; query: URLSearchParams },
    body: Json,
    status: number,
    fault: string | null,
  ) => {
    requestLog.push({
      method: request.method,
      path: request.path,
      query: Object.fromEntries(request.query),
      body: structuredClone(body),
      status,
      fault,
      at: new Date(now()).toISOString(),
    });
  };

  const injector = createFaultInjector();
  // Every request passes the injector before routing: the one place to refuse them all while unavailable.
  const faults: FaultInjector = {
    inject: (rule) => injector.inject(rule),
    take(method, path) {
      const query = new URLSearchParams();
      if (restUnavailable) {
        logRequest({ method, path, query }, {}, 503, 'unavailable');
        return { kind: 'status', status: 503, body: ERRORS.unavailable().body };
      }
      const fault = injector.take(method, path);
      if (fault !== undefined && fault.kind !== 'slow')
        logRequest(
          { method, path, query },
          {},
          fault.kind === 'status' ? fault.status : fault.kind === 'rate-limit' ? 429 : 0,
          fault.kind,
        );
      return fault;
    },
    clear: () => injector.clear(),
    get pending() {
      return injector.pending;
    },
  };

  const running = await startHttpServer({
    routes: routes.map((route) => ({
      method: route.method,
      path: `/api/v10${route.path}`,
      handler: async (request) => {
        const result =
          route.auth && request.headers.authorization !== `Bot ${token}`
            ? toResponse(ERRORS.unauthorized())
            : await route.handler(request);
        logRequest(request, bodyOf(request).json, result.status, null);
        return result;
      },
    })),
    faults,
    rateLimited: (resetInSeconds) => ({
      status: 429,
      headers: {
        'retry-after': String(resetInSeconds),
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String((now() + resetInSeconds * 1000) / 1000),
        'x-ratelimit-reset-after': String(resetInSeconds),
        'x-ratelimit-bucket': 'sandbox',
        'x-ratelimit-scope': 'user',
      },
      body: { message: 'You are being rate limited.', retry_after: resetInSeconds, global: false },
    }),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  wsUrl = running.url.replace(/^http/u, 'ws');

  const gateway = createGatewayHub({
    server: running.server,
    token,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
    url: wsUrl,
    readyPayload: (sessionId, shard) => ({
      v: 10,
      user_settings: {},
      user: { ...model.botUserJson(), verified: true, mfa_enabled: false, email: null },
      session_type: 'normal',
      session_id: sessionId,
      resume_gateway_url: `${wsUrl}/resume`,
      relationships: [],
      private_channels: [],
      presences: [],
      guilds: [{ id: guildInput.id, unavailable: true }],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ['japan', 'hongkong', 'singapore'],
      auth: {},
      application: { id: applicationId, flags: 0 },
      shard,
      _trace: ['["gateway-sandbox",{"micros":0}]'],
    }),
    guildCreatePayloads: () => [
      { ...model.guildCreateJson(), threads: [...threads.values()].map((thread) => threadJson(thread)) },
    ],
    membersChunk: (request) => {
      const guildIds = Array.isArray(request.guild_id) ? request.guild_id : [request.guild_id];
      if (!guildIds.includes(guildInput.id)) return null;
      const userIds = Array.isArray(request.user_ids)
        ? request.user_ids.map(String)
        : typeof request.user_ids === 'string'
          ? [request.user_ids]
          : null;
      const query = typeof request.query === 'string' ? request.query.toLowerCase() : '';
      const limit =
        typeof request.limit === 'number' && request.limit > 0 ? request.limit : Number.POSITIVE_INFINITY;
      const members = guildMembersJson()
        .filter((member) => {
          const user = member.user as Json;
          return userIds === null
            ? String(user.username).toLowerCase().startsWith(query)
            : userIds.includes(String(user.id));
        })
        .slice(0, limit);
      const found = new Set(members.map((m) => String((m.user as Json).id)));
      return {
        guild_id: guildInput.id,
        members,
        chunk_index: 0,
        chunk_count: 1,
        not_found: (userIds ?? []).filter((id) => !found.has(id)),
        ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
      };
    },
    refusing: () => gatewayUnavailable,
    onChange: notify,
  });

  const lookup = (kind: string, found: { id: string } | undefined, name: string): string => {
    if (found === undefined) throw new Error(`discord sandbox: no ${kind} "${name}"`);
    return found.id;
  };

  return {
    apiUrl: `${running.url}/api`,
    url: running.url,
    gatewayUrl: wsUrl,
    token,
    applicationId,
    botUser,
    guild: guildInput,
    faults,
    channelId: (name) => lookup('channel', model.channel(name), name),
    roleId: (name) => lookup('role', model.role(name), name),
    userId: (username) => lookup('member', model.member(username), username),

    messages(channelId, listOptions = {}) {
      return [...messages.values()]
        .filter(
          (m) =>
            !m.deleted &&
            (channelId === undefined || m.channelId === channelId) &&
            (listOptions.includeEphemeral === true || (m.flags & DiscordMessageFlag.Ephemeral) === 0),
        )
        .map(snapshot);
    },
    message(messageId) {
      const record = messages.get(messageId);
      return record === undefined ? undefined : snapshot(record);
    },
    waitForMessage(predicate, timeoutMs = 5000) {
      return waitFor(
        () => {
          for (const record of messages.values()) {
            if (record.deleted) continue;
            const message = snapshot(record);
            if (predicate(message)) return message;
          }
          return undefined;
        },
        timeoutMs,
        () =>
          `a message matching the predicate (have: ${JSON.stringify([...messages.values()].map((m) => m.content))})`,
      );
    },
    waitForEdit(messageId, predicate = () => true, timeoutMs = 5000) {
      return waitFor(
        () => {
          const record = messages.get(messageId);
          if (record === undefined || record.edits === 0) return undefined;
          const message = snapshot(record);
          return predicate(message) ? message : undefined;
        },
        timeoutMs,
        () =>
          `an edit of message ${messageId} (now: ${JSON.stringify(messages.get(messageId)?.content ?? null)})`,
      );
    },

    postAsUser(channelOrThreadId, userId, content) {
      const member = resolveMember(userId);
      const channel = channelById(channelOrThreadId);
      if (channel === undefined)
        throw new Error(`discord sandbox: no channel or thread "${channelOrThreadId}" to write in`);
      if (content === '') throw new Error('discord sandbox: a member cannot send an empty message');
      if ([...content].length > 2000)
        throw new Error('discord sandbox: a member cannot send more than 2000 characters');
      return snapshot(
        createMessage(channel.id, { content }, [], { flags: 0, interactionId: null, authorId: member.id }),
      );
    },
    threads: () => [...threads.values()].map(threadSnapshot),
    waitForThread(messageId, timeoutMs = 5000) {
      return waitFor(
        () => {
          const thread = threads.get(messageId);
          return thread === undefined ? undefined : threadSnapshot(thread);
        },
        timeoutMs,
        () => `a thread started from message ${messageId}`,
      );
    },
    setChannelRateLimit(limits) {
      channelLimits = resolveLimits(limits);
      buckets.clear();
    },
    clickButton,
    submitModal,
    interactions: () => [...interactions.values()].map(interactionSnapshot),
    interactionResponses: (interactionId) =>
      structuredClone(interactions.get(interactionId)?.responses ?? []),
    waitForInteractionResponse(interactionId, predicate, timeoutMs = 5000) {
      return waitFor(
        () => {
          const found = interactions.get(interactionId)?.responses.find(predicate);
          return found === undefined ? undefined : structuredClone(found);
        },
        timeoutMs,
        () => `a response to interaction ${interactionId}`,
      );
    },
    modals: () => modals.map(modalSnapshot),
    requests: () => structuredClone(requestLog),

    get connectedClients() {
      return gateway.readyConnections;
    },
    waitForConnectedClients(count = 1, timeoutMs = 5000) {
      return waitFor(
        () => (gateway.readyConnections >= count ? true : undefined),
        timeoutMs,
        () => `${count} connected gateway client(s) (have ${gateway.readyConnections})`,
      ).then(() => undefined);
    },
    gatewayStats: () => gateway.stats(),
    dropGateway: (dropOptions) => gateway.drop(dropOptions),
    setUnavailable(on, unavailableOptions = {}) {
      restUnavailable = on;
      gatewayUnavailable = on && unavailableOptions.gateway === true;
      if (gatewayUnavailable) gateway.drop({ resumable: true });
    },
    async close() {
      for (const cancel of [...cancels]) cancel(new Error('discord sandbox: closed while waiting'));
      for (const interaction of interactions.values())
        if (interaction.settle !== null) settle(interaction, failedOutcome(interaction.id, 'no-response'));
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      listeners.clear();
      await gateway.close();
      await running.close();
    },
  };
}
