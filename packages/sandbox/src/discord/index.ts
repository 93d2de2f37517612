export {
  type ClickButtonInput,
  DISCORD_CHANNEL_RATE_LIMIT,
  type DiscordChannelRateLimit,
  DiscordMessageFlag,
  type DiscordRateLimitBucket,
  type DiscordSandbox,
  type DiscordSandboxGuild,
  type DiscordSandboxInteraction,
  type DiscordSandboxMessage,
  type DiscordSandboxMessageVersion,
  type DiscordSandboxModal,
  type DiscordSandboxModalInput,
  type DiscordSandboxOptions,
  type DiscordSandboxRequest,
  type DiscordSandboxThread,
  type InteractionOutcome,
  type InteractionOutcomeType,
  type InteractionResponseRecord,
  type SubmitModalInput,
  startDiscordSandbox,
} from './discord-sandbox.ts';
export type {
  DropOptions as DiscordGatewayDropOptions,
  GatewayStats as DiscordGatewayStats,
} from './gateway.ts';
export {
  DEFAULT_DISCORD_GUILD,
  type DiscordLocale,
  type DiscordSandboxChannelInput,
  type DiscordSandboxGuildInput,
  type DiscordSandboxMemberInput,
  type DiscordSandboxRoleInput,
} from './guild.ts';
export type { MessagePings as DiscordMessagePings } from './validation.ts';
