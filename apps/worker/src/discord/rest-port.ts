import { REST, Routes } from 'discord.js';
import type { BotMessage, DiscordPort } from './port.ts';

/** The body Discord's REST API takes for a message, mentions restricted to the roles given. */
export function messageBody(message: BotMessage): Record<string, unknown> {
  return {
    content: message.content,
    embeds: message.embeds,
    components: message.components,
    allowed_mentions: { parse: [], roles: [...(message.allowedRoleIds ?? [])] },
  };
}

/** DiscordPort over discord.js's REST client (rate limits and retries handled by it). */
export function createRestDiscordPort(options: { token: string; api?: string | undefined }): DiscordPort {
  const rest = new REST({ version: '10', ...(options.api ? { api: options.api } : {}) }).setToken(
    options.token,
  );
  return {
    async send(channelId, message, { nonce }) {
      const created = (await rest.post(Routes.channelMessages(channelId), {
        body: { ...messageBody(message), nonce, enforce_nonce: true },
      })) as { id: string };
      return { id: created.id };
    },
    async edit(channelId, messageId, message) {
      await rest.patch(Routes.channelMessage(channelId, messageId), { body: messageBody(message) });
    },
  };
}
