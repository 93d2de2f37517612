import { discordTimestamp } from './ids.ts';

/** A Discord locale; the stand-in passes any string through, these are the ones kikimimi speaks. */
export type DiscordLocale = 'ja' | 'en-US' | (string & Record<never, never>);

export interface DiscordSandboxChannelInput {
  readonly id: string;
  readonly name: string;
  readonly topic?: string;
}

export interface DiscordSandboxRoleInput {
  readonly id: string;
  readonly name: string;
  /** Permission bits as a decimal string, as Discord sends them (default '0'). */
  readonly permissions?: string;
  readonly mentionable?: boolean;
  readonly color?: number;
}

export interface DiscordSandboxMemberInput {
  readonly id: string;
  readonly username: string;
  /** Role ids (not names); @everyone is implied. */
  readonly roles: readonly string[];
  /** The language of the member's Discord client (default: the guild's locale). */
  readonly locale?: DiscordLocale;
  readonly globalName?: string;
  readonly nick?: string;
}

export interface DiscordSandboxGuildInput {
  readonly id: string;
  readonly name: string;
  readonly locale: DiscordLocale;
  readonly channels: readonly DiscordSandboxChannelInput[];
  readonly roles: readonly DiscordSandboxRoleInput[];
  readonly members: readonly DiscordSandboxMemberInput[];
}

/** Permission bits kikimimi's stand-in talks about. */
export const Permission = {
  Administrator: 1n << 3n,
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  MentionEveryone: 1n << 17n,
  UseExternalEmojis: 1n << 18n,
  UseApplicationCommands: 1n << 31n,
  CreatePublicThreads: 1n << 35n,
  SendMessagesInThreads: 1n << 38n,
} as const;

const ALL_PERMISSIONS = (1n << 53n) - 1n;

/** What @everyone may do in the stand-in's guild: read and write in text channels. */
export const EVERYONE_PERMISSIONS =
  Permission.ViewChannel |
  Permission.SendMessages |
  Permission.EmbedLinks |
  Permission.AttachFiles |
  Permission.ReadMessageHistory |
  Permission.AddReactions |
  Permission.UseExternalEmojis |
  Permission.UseApplicationCommands;

/** What the bot may do (sent as `app_permissions`). */
export const BOT_PERMISSIONS =
  EVERYONE_PERMISSIONS |
  Permission.ManageMessages |
  Permission.MentionEveryone |
  Permission.CreatePublicThreads |
  Permission.SendMessagesInThreads;

/** The guild a stand-in starts with unless told otherwise. */
export const DEFAULT_DISCORD_GUILD: DiscordSandboxGuildInput = {
  id: '1400000000000000000',
  name: 'kikimimi sandbox',
  locale: 'ja',
  channels: [
    { id: '1400000000000000101', name: 'review' },
    { id: '1400000000000000102', name: 'review-x' },
    { id: '1400000000000000103', name: 'review-mastodon' },
    { id: '1400000000000000104', name: 'billing' },
    { id: '1400000000000000105', name: 'engineering' },
    { id: '1400000000000000106', name: 'pr' },
  ],
  roles: [
    { id: '1400000000000000201', name: 'reviewer', mentionable: true },
    { id: '1400000000000000202', name: 'billing-team', mentionable: true },
    { id: '1400000000000000203', name: 'oncall', mentionable: true },
  ],
  members: [
    { id: '1400000000000000301', username: 'alice', roles: ['1400000000000000201'] },
    { id: '1400000000000000302', username: 'bob', roles: [] },
  ],
};

export interface BotIdentity {
  readonly id: string;
  readonly username: string;
}

/** The JSON builders for one guild, its members and its bot. */
export interface GuildModel {
  readonly input: DiscordSandboxGuildInput;
  readonly bot: BotIdentity;
  readonly joinedAt: string;
  userJson(userId: string): Record<string, unknown> | null;
  botUserJson(): Record<string, unknown>;
  memberJson(userId: string): Record<string, unknown> | null;
  /** The member's permissions in a channel (no overwrites exist, so the guild-wide ones). */
  memberPermissions(userId: string): string;
  channelJson(channelId: string, withGuildId?: boolean): Record<string, unknown> | null;
  rolesJson(): Record<string, unknown>[];
  guildJson(): Record<string, unknown>;
  guildCreateJson(): Record<string, unknown>;
  member(idOrUsername: string): DiscordSandboxMemberInput | undefined;
  channel(idOrName: string): DiscordSandboxChannelInput | undefined;
  role(idOrName: string): DiscordSandboxRoleInput | undefined;
}

export function createGuildModel(input: DiscordSandboxGuildInput, bot: BotIdentity, now: number): GuildModel {
  const joinedAt = discordTimestamp(now);
  const botRoleId = `${BigInt(input.id) + 999n}`;
  const ownerId = input.members[0]?.id ?? bot.id;

  const userJson = (userId: string): Record<string, unknown> | null => {
    if (userId === bot.id) return botUserJson();
    const member = input.members.find((m) => m.id === userId);
    if (member === undefined) return null;
    return {
      id: member.id,
      username: member.username,
      global_name: member.globalName ?? null,
      discriminator: '0',
      avatar: null,
      avatar_decoration_data: null,
      public_flags: 0,
      flags: 0,
      banner: null,
      accent_color: null,
      collectibles: null,
      display_name_styles: null,
      primary_guild: null,
      clan: null,
    };
  };
  const botUserJson = (): Record<string, unknown> => ({
    id: bot.id,
    username: bot.username,
    global_name: null,
    discriminator: '0',
    avatar: null,
    avatar_decoration_data: null,
    bot: true,
    public_flags: 0,
    flags: 0,
    banner: null,
    accent_color: null,
  });

  const roleJson = (role: DiscordSandboxRoleInput, position: number): Record<string, unknown> => ({
    id: role.id,
    name: role.name,
    description: null,
    permissions: role.permissions ?? '0',
    position,
    color: role.color ?? 0,
    colors: { primary_color: role.color ?? 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    managed: false,
    mentionable: role.mentionable ?? false,
    icon: null,
    unicode_emoji: null,
    flags: 0,
  });
  const rolesJson = (): Record<string, unknown>[] => [
    roleJson({ id: input.id, name: '@everyone', permissions: EVERYONE_PERMISSIONS.toString() }, 0),
    ...input.roles.map((role, i) => roleJson(role, i + 1)),
    {
      ...roleJson(
        { id: botRoleId, name: bot.username, permissions: BOT_PERMISSIONS.toString() },
        input.roles.length + 1,
      ),
      managed: true,
      tags: { bot_id: bot.id },
    },
  ];

  const memberBase = (userId: string, roles: readonly string[], nick: string | null) => ({
    user: userJson(userId),
    roles: [...roles],
    nick,
    avatar: null,
    banner: null,
    joined_at: joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    pending: false,
    flags: 0,
    communication_disabled_until: null,
  });
  const memberJson = (userId: string): Record<string, unknown> | null => {
    if (userId === bot.id) return memberBase(bot.id, [botRoleId], null);
    const member = input.members.find((m) => m.id === userId);
    return member === undefined ? null : memberBase(member.id, member.roles, member.nick ?? null);
  };
  const memberPermissions = (userId: string): string => {
    if (userId === bot.id) return BOT_PERMISSIONS.toString();
    if (userId === ownerId) return ALL_PERMISSIONS.toString();
    const member = input.members.find((m) => m.id === userId);
    let bits = EVERYONE_PERMISSIONS;
    for (const roleId of member?.roles ?? []) {
      const role = input.roles.find((r) => r.id === roleId);
      if (role !== undefined) bits |= BigInt(role.permissions ?? '0');
    }
    return ((bits & Permission.Administrator) === 0n ? bits : ALL_PERMISSIONS).toString();
  };

  const channelJson = (channelId: string, withGuildId = true): Record<string, unknown> | null => {
    const index = input.channels.findIndex((c) => c.id === channelId);
    const channel = input.channels[index];
    if (channel === undefined) return null;
    return {
      id: channel.id,
      type: 0,
      ...(withGuildId ? { guild_id: input.id } : {}),
      name: channel.name,
      position: index,
      parent_id: null,
      topic: channel.topic ?? null,
      nsfw: false,
      last_message_id: null,
      rate_limit_per_user: 0,
      permission_overwrites: [],
      flags: 0,
      icon_emoji: null,
      theme_color: null,
    };
  };

  const guildJson = (): Record<string, unknown> => ({
    id: input.id,
    name: input.name,
    icon: null,
    description: null,
    home_header: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    owner_id: ownerId,
    application_id: null,
    region: 'deprecated',
    afk_channel_id: null,
    afk_timeout: 300,
    system_channel_id: input.channels[0]?.id ?? null,
    system_channel_flags: 0,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: 0,
    roles: rolesJson(),
    default_message_notifications: 1,
    mfa_level: 0,
    explicit_content_filter: 0,
    max_presences: null,
    max_members: 25_000_000,
    max_stage_video_channel_users: 50,
    max_video_channel_users: 25,
    vanity_url_code: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: input.locale,
    rules_channel_id: null,
    safety_alerts_channel_id: null,
    public_updates_channel_id: null,
    hub_type: null,
    premium_progress_bar_enabled: false,
    latest_onboarding_question_id: null,
    nsfw: false,
    nsfw_level: 0,
    emojis: [],
    stickers: [],
    features: [],
    incidents_data: null,
    inventory_settings: null,
    embed_enabled: false,
    embed_channel_id: null,
  });

  const memberIds = (): string[] => [...input.members.map((m) => m.id), bot.id];

  return {
    input,
    bot,
    joinedAt,
    userJson,
    botUserJson,
    memberJson,
    memberPermissions,
    channelJson,
    rolesJson,
    guildJson,
    guildCreateJson: () => ({
      ...guildJson(),
      joined_at: joinedAt,
      large: false,
      unavailable: false,
      lazy: true,
      member_count: memberIds().length,
      voice_states: [],
      members: memberIds().map((id) => memberJson(id)),
      channels: input.channels.map((c) => channelJson(c.id, false)),
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      embedded_activities: [],
      activity_instances: [],
      application_command_counts: {},
      version: now,
    }),
    member: (idOrUsername) => input.members.find((m) => m.id === idOrUsername || m.username === idOrUsername),
    channel: (idOrName) => input.channels.find((c) => c.id === idOrName || c.name === idOrName),
    role: (idOrName) => input.roles.find((r) => r.id === idOrName || r.name === idOrName),
  };
}
