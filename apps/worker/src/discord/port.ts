import type { APIActionRowComponent, APIComponentInMessageActionRow, APIEmbed } from 'discord.js';

/** A bot message as kikimimi builds it: always with explicit allowed mentions. */
export interface BotMessage {
  readonly content: string;
  readonly embeds: APIEmbed[];
  readonly components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  /** Roles this message may ping (escalations); nobody else, ever. */
  readonly allowedRoleIds?: readonly string[];
}

/** What the pipeline needs from Discord: send and edit messages (REST only; any worker may do it). */
export interface DiscordPort {
  /** Sends with a nonce Discord enforces: a retry after a lost answer returns the same message. */
  send(channelId: string, message: BotMessage, options: { nonce: string }): Promise<{ id: string }>;
  edit(channelId: string, messageId: string, message: BotMessage): Promise<void>;
  /**
   * The thread under a message: started (named `name`) when it has none, else the existing one (a
   * thread started from a message has the message's id). Returns the thread's channel id.
   */
  thread(channelId: string, messageId: string, name: string): Promise<string>;
}
