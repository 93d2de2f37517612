import { AsyncLocalStorage } from 'node:async_hooks';
import { DiscordAPIError, RateLimitError, REST, RESTEvents, Routes } from 'discord.js';
import { createChannelPacing } from './pacing.ts';

/** Discord's JSON error code for a message that has a thread already. */
const THREAD_EXISTS = 160004;
/** The path messages are sent to (POST): its channel. */
const MESSAGES_PATH = /^\/channels\/([^/]+)\/messages$/u;

import {
  type BotMessage,
  COMPONENTS_V2,
  DiscordBusyError,
  type DiscordPort,
  isComponentsV2,
} from './port.ts';

/** The body Discord's REST API takes for a message, mentions restricted to the roles given. */
export function messageBody(message: BotMessage): Record<string, unknown> {
  const allowed_mentions = { parse: [], roles: [...(message.allowedRoleIds ?? [])] };
  // Discord refuses content and embeds on a message with components v2: they are left out.
  if (isComponentsV2(message))
    return { flags: COMPONENTS_V2, components: message.components, allowed_mentions };
  return {
    content: message.content,
    embeds: message.embeds,
    components: message.components,
    allowed_mentions,
  };
}

/** DiscordPort over discord.js's REST client (rate limits and retries handled by it). */
export function createRestDiscordPort(options: { token: string; api?: string | undefined }): DiscordPort {
  // Requests made inside `failFast.run(true, …)` are refused by discord.js when their bucket is spent
  // instead of waiting (the check runs in the caller's async context); every other request waits.
  const failFast = new AsyncLocalStorage<boolean>();
  const rest = new REST({
    version: '10',
    ...(options.api ? { api: options.api } : {}),
    rejectOnRateLimit: () => failFast.getStore() === true,
  }).setToken(options.token);
  // What each answer to a message sent says of its channel's rate limit, for the pacing of reviews.
  const pacing = createChannelPacing();
  rest.on(RESTEvents.Response, (request, response) => {
    const channelId = MESSAGES_PATH.exec(request.path)?.[1];
    if (request.method.toUpperCase() === 'POST' && channelId !== undefined)
      pacing.observe(channelId, response.headers, Date.now());
  });
  /** The thread under a message, started when it has none (one started from a message has its id). */
  const startThread = async (channelId: string, messageId: string, name: string) => {
    try {
      const created = (await rest.post(Routes.threads(channelId, messageId), {
        // Names are 1–100 characters; a week of quiet archives it (a new message unarchives it).
        body: { name: name.slice(0, 100) || 'case', auto_archive_duration: 10080 },
      })) as { id: string };
      return created.id;
    } catch (error) {
      // 160004: "A thread has already been created for this message" — its id is the message's.
      if (error instanceof DiscordAPIError && error.code === THREAD_EXISTS) return messageId;
      throw error;
    }
  };
  return {
    async send(channelId, message, { nonce, busy = 'wait' }) {
      const post = () =>
        rest.post(Routes.channelMessages(channelId), {
          body: { ...messageBody(message), nonce, enforce_nonce: true },
        }) as Promise<{ id: string }>;
      if (busy === 'pace') {
        const wait = pacing.take(channelId, Date.now());
        if (wait > 0) throw new DiscordBusyError(wait);
      }
      try {
        const created = busy === 'wait' ? await post() : await failFast.run(true, post);
        return { id: created.id };
      } catch (error) {
        if (error instanceof RateLimitError) {
          pacing.spent(channelId, Date.now());
          throw new DiscordBusyError(Math.max(0, error.timeToReset));
        }
        throw error;
      }
    },
    pace: (channelId) => pacing.pace(channelId, Date.now()),
    async edit(channelId, messageId, message) {
      await rest.patch(Routes.channelMessage(channelId, messageId), { body: messageBody(message) });
    },
    async thread(channelId, messageId, name, { spread = false } = {}) {
      const id = await startThread(channelId, messageId, name);
      if (spread) pacing.spent(id, Date.now());
      return id;
    },
  };
}
