import { Client, Events, GatewayIntentBits, type Interaction, MessageFlags } from 'discord.js';
import type { Logger } from 'pino';
import {
  handleInteraction,
  handleThreadMessage,
  type InteractionDeps,
  type InteractionIo,
} from './interactions.ts';
import { isComponentsV2 } from './port.ts';
import { messageBody } from './rest-port.ts';

/** Adapts a discord.js interaction to what the handler needs; null for kinds kikimimi does not use. */
export function ioFor(interaction: Interaction): InteractionIo | null {
  if (!interaction.isButton() && !interaction.isModalSubmit()) return null;
  const member = interaction.member;
  const roleIds =
    member === null ? [] : Array.isArray(member.roles) ? member.roles : [...member.roles.cache.keys()];
  const fields: Record<string, string> = {};
  if (interaction.isModalSubmit()) {
    for (const [id, field] of interaction.fields.fields) {
      if ('value' in field && typeof field.value === 'string') fields[id] = field.value;
    }
  }
  return {
    customId: interaction.customId,
    user: { id: interaction.user.id, name: interaction.user.globalName ?? interaction.user.username },
    roleIds,
    locale: interaction.locale ?? interaction.guildLocale ?? null,
    fields,
    async replyEphemeral(message) {
      await interaction.reply({
        content: message.content,
        components: message.components ?? [],
        flags: MessageFlags.Ephemeral,
        allowedMentions: { parse: [] },
      });
    },
    async showModal(modal) {
      if (!interaction.isButton()) throw new Error('a modal can only answer a button');
      await interaction.showModal(modal);
    },
    async update(message) {
      const body = messageBody(message);
      if (interaction.isButton() || (interaction.isModalSubmit() && interaction.isFromMessage())) {
        const allowedMentions = body.allowed_mentions as { parse: []; roles: string[] };
        await interaction.update(
          isComponentsV2(message)
            ? { flags: MessageFlags.IsComponentsV2, components: message.components, allowedMentions }
            : {
                content: message.content,
                embeds: message.embeds,
                components: message.components,
                allowedMentions,
              },
        );
      } else {
        await interaction.reply({ content: message.content, flags: MessageFlags.Ephemeral });
      }
    },
  };
}

/** Discord refused DISCORD_TOKEN: nothing but a new token helps, so the message says how to get one. */
export class DiscordTokenRefusedError extends Error {
  override readonly name = 'DiscordTokenRefusedError';
  constructor() {
    super(
      'Discord refused the bot token (401 Unauthorized): DISCORD_TOKEN is wrong, was reset, or belongs to another application. ' +
        'Copy the token from the Discord Developer Portal (your application → Bot → Reset Token), set DISCORD_TOKEN and restart the worker; ' +
        'until then reviews happen in the web console only.',
    );
  }
}

/** discord.js says TokenInvalid for a token it will not send and for a 401 from Discord. */
function isTokenRefused(error: unknown): boolean {
  const e = error as { code?: unknown; status?: unknown } | null;
  return e !== null && typeof e === 'object' && (e.code === 'TokenInvalid' || e.status === 401);
}

/**
 * The Discord gateway connection that receives reviewers' clicks; run by one worker at a time
 * (see lease.ts). Resolves when the signal aborts; a refused token rejects with
 * {@link DiscordTokenRefusedError}.
 */
export async function runDiscordGateway(
  options: {
    token: string;
    api?: string | undefined;
    threadNotes?: boolean | undefined;
    signal: AbortSignal;
  },
  deps: InteractionDeps,
  log: Logger,
): Promise<void> {
  const client = new Client({
    // Thread notes read members' messages: the privileged Message Content intent, only when asked for.
    intents: options.threadNotes
      ? [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent]
      : [GatewayIntentBits.Guilds],
    allowedMentions: { parse: [] },
    ...(options.api ? { rest: { api: options.api } } : {}),
  });
  if (options.threadNotes) {
    client.on(Events.MessageCreate, (message) => {
      if (message.author.bot || message.webhookId !== null || !message.channel.isThread()) return;
      const member = message.member;
      handleThreadMessage(
        {
          threadId: message.channelId,
          user: { id: message.author.id, name: message.author.globalName ?? message.author.username },
          roleIds: member === null ? [] : [...member.roles.cache.keys()],
          content: message.content,
        },
        deps,
      ).catch((error: unknown) =>
        log.warn({ error: error instanceof Error ? error.message : String(error) }, 'thread note not kept'),
      );
    });
  }
  client.on(Events.InteractionCreate, (interaction) => {
    const io = ioFor(interaction);
    if (io === null) return;
    handleInteraction(io, deps).catch((error: unknown) => {
      log.error(
        { customId: io.customId, error: error instanceof Error ? error.message : String(error) },
        'interaction failed',
      );
    });
  });
  client.on(Events.Error, (error) => log.warn({ error: error.message }, 'discord client error'));
  try {
    try {
      await client.login(options.token);
    } catch (error) {
      throw isTokenRefused(error) ? new DiscordTokenRefusedError() : error;
    }
    log.info({ user: client.user?.tag }, 'discord gateway connected');
    await new Promise<void>((resolve) => {
      if (options.signal.aborted) resolve();
      options.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await client.destroy();
  }
}
