import type {
  APIActionRowComponent,
  APIComponentInMessageActionRow,
  APIEmbed,
  APIMessageTopLevelComponent,
} from 'discord.js';
import type { Pace } from './pacing.ts';

/** Message flag IS_COMPONENTS_V2: layout components (containers, text displays), no content or embeds. */
export const COMPONENTS_V2 = 1 << 15;

/** A bot message as kikimimi builds it: always with explicit allowed mentions. */
export interface ClassicMessage {
  readonly content: string;
  readonly embeds: APIEmbed[];
  readonly components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  /** Roles this message may ping (escalations); nobody else, ever. */
  readonly allowedRoleIds?: readonly string[];
  readonly flags?: undefined;
}

/**
 * A message of layout components (components v2: containers, text displays, rows), without content
 * or embeds. Discord keeps the flag on the message: its edits are layout messages too.
 */
export interface LayoutMessage {
  readonly content: '';
  readonly embeds: [];
  readonly components: APIMessageTopLevelComponent[];
  readonly allowedRoleIds?: readonly string[];
  readonly flags: typeof COMPONENTS_V2;
}

export type BotMessage = ClassicMessage | LayoutMessage;

export const isComponentsV2 = (message: BotMessage): message is LayoutMessage =>
  message.flags === COMPONENTS_V2;

/**
 * The channel's rate limit is spent for now, or its next message is not due yet (a send with
 * `busy: 'fail'` or `'pace'`): nothing was sent; try again in `retryAfterMs`.
 */
export class DiscordBusyError extends Error {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(`Discord's rate limit for this channel is spent for ${Math.ceil(retryAfterMs)} ms`);
    this.name = 'DiscordBusyError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** What the pipeline needs from Discord: send and edit messages (REST only; any worker may do it). */
export interface DiscordPort {
  /**
   * Sends with a nonce Discord enforces: a retry after a lost answer returns the same message. While
   * the channel's rate limit is spent it waits; with `busy: 'fail'` it throws DiscordBusyError at once
   * instead (the caller then does other work meanwhile: a job waiting for one busy channel would hold
   * a worker slot that a message for another channel could use); with `busy: 'pace'` it also throws
   * while the channel's messages are being spread over its window (`pace`), and a message it lets
   * through counts as on its way.
   */
  send(
    channelId: string,
    message: BotMessage,
    options: { nonce: string; busy?: 'wait' | 'fail' | 'pace' },
  ): Promise<{ id: string }>;
  /**
   * The channel's pace (pacing.ts), from what Discord said of its rate limit: how long a review should
   * wait before it takes one of its messages (0: now) — once reviews have found the channel spent,
   * its messages are spread over each window, and the reviews that come meanwhile go together — and
   * whether a message went to it in its current window.
   */
  pace(channelId: string): Pace;
  edit(channelId: string, messageId: string, message: BotMessage): Promise<void>;
  /**
   * The thread under a message: started (named `name`) when it has none, else the existing one (a
   * thread started from a message has the message's id). Returns the thread's channel id. `spread`:
   * its reviews are known to come faster than Discord takes them (a surge's thread, with the reviews
   * that waited for it) — its messages are spread over each window from the first (`pace`), instead
   * of the window's first few going one review each and the rest waiting for its end.
   */
  thread(channelId: string, messageId: string, name: string, options?: { spread?: boolean }): Promise<string>;
}
