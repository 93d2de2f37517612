import { type DiscordSandbox, startDiscordSandbox } from '@kikimimi/sandbox';
import { ButtonStyle, Client, ComponentType, Events, GatewayIntentBits, TextInputStyle } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ioFor } from './gateway.ts';
import type { InteractionIo } from './interactions.ts';
import { createRestDiscordPort } from './rest-port.ts';
import { ids } from './review-message.ts';

// How an interaction reaches the handler: discord.js (the real library) against the Discord stand-in,
// parsed by ioFor, answered through the io it returns.
const MATCH_ID = '6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f';
let sandbox: DiscordSandbox;
let client: Client;
let messageId: string;
let respond: (io: InteractionIo) => Promise<void> = async () => {};
const seen: Array<InteractionIo | null> = [];

beforeAll(async () => {
  sandbox = await startDiscordSandbox();
  client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: sandbox.apiUrl } });
  client.on(Events.InteractionCreate, (interaction) => {
    const io = ioFor(interaction);
    seen.push(io);
    if (io) void respond(io);
  });
  await client.login(sandbox.token);
  await sandbox.waitForConnectedClients(1);
  const port = createRestDiscordPort({ token: sandbox.token, api: sandbox.apiUrl });
  ({ id: messageId } = await port.send(
    sandbox.channelId('review'),
    {
      content: '',
      embeds: [{ description: 'a review' }],
      components: [
        {
          type: ComponentType.ActionRow,
          components: [
            {
              type: ComponentType.Button,
              style: ButtonStyle.Secondary,
              label: 'Dismiss',
              custom_id: ids.dismiss(MATCH_ID),
            },
          ],
        },
      ],
    },
    { nonce: 'gateway-test' },
  ));
});

afterAll(async () => {
  await client?.destroy();
  await sandbox?.close();
});

describe('ioFor: an interaction as the handler sees it', () => {
  it('a click: the custom id, who (with their roles in the guild) and their language; an ephemeral answer pings nobody', async () => {
    seen.length = 0;
    respond = (io) => io.replyEphemeral({ content: '@everyone <@&1400000000000000202> no' });
    const outcome = await sandbox.clickButton({
      messageId,
      customId: ids.dismiss(MATCH_ID),
      userId: 'alice',
      locale: 'en-US',
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      customId: ids.dismiss(MATCH_ID),
      user: { id: sandbox.userId('alice'), name: 'alice' },
      // discord.js keeps the guild cached: its member roles include @everyone (whose id is the guild's).
      roleIds: [sandbox.guild.id, sandbox.roleId('reviewer')],
      locale: 'en-US',
      fields: {},
    });
    expect(outcome.ephemeral).toBe(true);
    expect(outcome.data).toMatchObject({ allowed_mentions: { parse: [] } });
    expect(outcome.message?.pings).toMatchObject({ everyone: false, roles: [] });
  });

  it('a member without roles is seen without roles', async () => {
    seen.length = 0;
    respond = (io) => io.replyEphemeral({ content: 'no' });
    await sandbox.clickButton({ messageId, customId: ids.dismiss(MATCH_ID), userId: 'bob' });
    expect(seen[0]?.roleIds).toEqual([sandbox.guild.id]);
    expect(seen[0]?.locale).toBe('ja');
  });

  it('a modal submission: its text inputs by id; the update replaces the review message and pings nobody', async () => {
    seen.length = 0;
    respond = (io) =>
      io.showModal({
        custom_id: ids.dismissModal(MATCH_ID),
        title: 'Dismiss',
        components: [
          {
            type: ComponentType.ActionRow,
            components: [
              {
                type: ComponentType.TextInput,
                custom_id: 'reason',
                label: 'Reason',
                style: TextInputStyle.Short,
                required: false,
              },
            ],
          },
        ],
      });
    const opened = await sandbox.clickButton({ messageId, customId: ids.dismiss(MATCH_ID), userId: 'alice' });
    expect(opened.modal?.customId).toBe(ids.dismissModal(MATCH_ID));

    respond = (io) => io.update({ content: 'dismissed <@&1400000000000000202>', embeds: [], components: [] });
    const submitted = await sandbox.submitModal({
      customId: ids.dismissModal(MATCH_ID),
      userId: 'alice',
      values: { reason: ' spam bot ' },
    });
    expect(seen[1]).toMatchObject({ customId: ids.dismissModal(MATCH_ID), fields: { reason: ' spam bot ' } });
    expect(submitted.type).toBe('update');
    expect(submitted.message?.id).toBe(messageId);
    expect(submitted.data).toMatchObject({ allowed_mentions: { parse: [], roles: [] } });
  });
});
