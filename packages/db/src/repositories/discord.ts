import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../client.ts';
import { discordSettings } from '../schema.ts';
import type { Actor, ConfigProblemList, DiscordSettings } from '../types.ts';
import { parseActor, writeAudit, zodProblems } from './shared.ts';

const snowflake = z.string().regex(/^\d{1,20}$/u, 'a Discord id (digits only)');
const logicalName = z.string().min(1).max(100);

export const discordSettingsSchema = z.strictObject({
  guildId: snowflake.nullable().default(null),
  channels: z.record(logicalName, snowflake).default({}),
  reviewerRoleIds: z.array(snowflake).default([]),
  roles: z.record(logicalName, snowflake).default({}),
  locale: z.enum(['ja', 'en']).default('ja'),
});

export type DiscordSettingsResult =
  | { readonly ok: true; readonly settings: DiscordSettings }
  | { readonly ok: false; readonly problems: ConfigProblemList };

/** The Discord bindings (a single row); defaults until first saved. */
export interface DiscordRepository {
  get(): Promise<DiscordSettings>;
  /** Validates and replaces the settings; audited as `discord.set`. */
  set(settings: unknown, actor: Actor): Promise<DiscordSettingsResult>;
}

export function createDiscordRepository(db: Database): DiscordRepository {
  return {
    async get() {
      const [row] = await db.select().from(discordSettings).where(eq(discordSettings.id, 1));
      return discordSettingsSchema.parse(row?.settings ?? {});
    },

    async set(input, actorInput) {
      const actor = parseActor(actorInput);
      const parsed = discordSettingsSchema.safeParse(input);
      if (!parsed.success) return { ok: false, problems: zodProblems(parsed.error) };
      const settings = parsed.data;
      const now = new Date();
      await db.transaction(async (tx) => {
        await tx
          .insert(discordSettings)
          .values({ id: 1, settings, updatedAt: now })
          .onConflictDoUpdate({ target: discordSettings.id, set: { settings, updatedAt: now } });
        await writeAudit(tx, actor, 'discord.set', null, { settings }, now);
      });
      return { ok: true, settings };
    },
  };
}
