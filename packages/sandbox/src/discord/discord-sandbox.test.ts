import { inflateSync, constants as zlibConstants } from 'node:zlib';
import {
  ActionRowBuilder,
  type APIMessageTopLevelComponent,
  ButtonBuilder,
  type ButtonInteraction,
  ButtonStyle,
  ChannelType,
  Client,
  type ClientOptions,
  ComponentType,
  ContainerBuilder,
  DiscordAPIError,
  EmbedBuilder,
  Events,
  GatewayIntentBits,
  HTTPError,
  type Interaction,
  LabelBuilder,
  type Message,
  MessageFlags,
  ModalBuilder,
  type ModalSubmitInteraction,
  type SendableChannels,
  SeparatorBuilder,
  TextDisplayBuilder,
  TextInputBuilder,
  TextInputStyle,
  type ThreadChannel,
} from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type DiscordSandbox, type DiscordSandboxOptions, startDiscordSandbox } from './discord-sandbox.ts';

let sandbox: DiscordSandbox;
let client: Client;
/** Errors thrown inside interaction handlers: a handler that fails must fail the test. */
let handlerErrors: unknown[];

async function connect(
  options: DiscordSandboxOptions = {},
  clientOptions: Partial<ClientOptions> = {},
): Promise<void> {
  sandbox = await startDiscordSandbox(options);
  client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
    rest: { api: sandbox.apiUrl },
    ...clientOptions,
  });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(sandbox.token);
  await ready;
}

/** Installs the bot's interaction handler, keeping what it throws for the afterEach check. */
function onInteraction(handler: (interaction: Interaction) => Promise<unknown>): void {
  client.on(Events.InteractionCreate, (interaction) => {
    handler(interaction).catch((error: unknown) => handlerErrors.push(error));
  });
}

async function channel(name: string): Promise<SendableChannels> {
  const found = await client.channels.fetch(sandbox.channelId(name));
  if (found === null || !found.isSendable()) throw new Error(`channel ${name} is not sendable`);
  return found;
}

const row = (...buttons: Array<[customId: string, label: string]>) =>
  new ActionRowBuilder<ButtonBuilder>().addComponents(
    buttons.map(([customId, label]) =>
      new ButtonBuilder().setCustomId(customId).setLabel(label).setStyle(ButtonStyle.Primary),
    ),
  );

/** A review message with the usual buttons, sent the way the bot sends it. */
async function postReview(content = 'X @someone: 届かないんだけど') {
  const review = await channel('review');
  return review.send({
    content,
    components: [row(['thanks:1', 'お礼'], ['apology:1', 'お詫び'], ['dismiss:1', '対応不要'])],
    allowedMentions: { parse: [] },
  });
}

beforeEach(() => {
  handlerErrors = [];
});
afterEach(async () => {
  await client?.destroy();
  await sandbox?.close();
  client = undefined as unknown as Client;
  sandbox = undefined as unknown as DiscordSandbox;
  expect(handlerErrors).toEqual([]);
});

describe('login', () => {
  it('logs discord.js in through /gateway/bot, READY and GUILD_CREATE, with the guild in cache', async () => {
    const started = Date.now();
    await connect();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(client.user?.id).toBe(sandbox.applicationId);
    const guild = client.guilds.cache.get(sandbox.guild.id);
    expect(guild?.available).toBe(true);
    expect(guild?.preferredLocale).toBe('ja');
    expect([...(guild?.channels.cache.values() ?? [])].map((c) => c.name)).toEqual([
      'review',
      'review-x',
      'review-mastodon',
      'billing',
      'engineering',
      'pr',
    ]);
    expect(guild?.roles.cache.map((r) => r.name)).toEqual(
      expect.arrayContaining(['@everyone', 'reviewer', 'billing-team', 'oncall']),
    );
    const alice = guild?.members.cache.get(sandbox.userId('alice'));
    expect(alice?.roles.cache.has(sandbox.roleId('reviewer'))).toBe(true);
    expect(guild?.members.cache.get(sandbox.userId('bob'))?.roles.cache.size).toBe(1); // @everyone only
    expect(sandbox.connectedClients).toBe(1);
    expect(sandbox.gatewayStats()).toMatchObject({ identifies: 1, resumes: 0 });
    // A full member fetch goes over the gateway (op 8 → GUILD_MEMBERS_CHUNK).
    const members = await guild?.members.fetch();
    expect(members?.map((m) => m.user.username).sort()).toEqual(['alice', 'bob', 'kikimimi']);
  });

  it('refuses a wrong token on REST with 401, so login fails', async () => {
    sandbox = await startDiscordSandbox();
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: sandbox.apiUrl } });
    await expect(client.login('not-the-token')).rejects.toThrow(/token/iu);
  });
});

describe('messages', () => {
  beforeEach(() => connect());

  it('records a message with embeds, a row of buttons and allowed_mentions exactly as sent', async () => {
    const review = await channel('review');
    const embed = new EmbedBuilder()
      .setTitle('@someone on X')
      .setDescription('届かないんだけど <@&1400000000000000203>')
      .setURL('https://x.example/someone/status/1')
      .setColor(0x5865f2)
      .addFields({ name: 'category', value: 'shipping', inline: true });
    const sent = await review.send({
      content: 'new post',
      embeds: [embed],
      components: [row(['thanks:1', 'お礼'], ['dismiss:1', '対応不要'])],
      allowedMentions: { parse: [] },
    });
    const [recorded] = sandbox.messages(sandbox.channelId('review'));
    expect(recorded).toMatchObject({
      id: sent.id,
      channelId: sandbox.channelId('review'),
      content: 'new post',
      embeds: [embed.toJSON()],
      components: [
        {
          type: 1,
          components: [
            { type: 2, custom_id: 'thanks:1', label: 'お礼', style: 1 },
            { type: 2, custom_id: 'dismiss:1', label: '対応不要', style: 1 },
          ],
        },
      ],
      allowedMentions: { parse: [] },
      pings: { users: [], roles: [], everyone: false },
      edits: 0,
      editedAt: null,
    });
    // discord.js built its Message from the stand-in's answer.
    expect(sent.embeds[0]?.title).toBe('@someone on X');
    expect(sent.components).toHaveLength(1);
    expect(sent.author.id).toBe(sandbox.applicationId);
  });

  it('pings only what allowed_mentions lets through', async () => {
    const billing = await channel('billing');
    const oncall = sandbox.roleId('oncall');
    const billingTeam = sandbox.roleId('billing-team');
    await billing.send({
      content: `<@&${oncall}> <@&${billingTeam}> @everyone escalation`,
      allowedMentions: { parse: [], roles: [oncall] },
    });
    const [message] = sandbox.messages(sandbox.channelId('billing'));
    expect(message?.pings).toEqual({ users: [], roles: [oncall], everyone: false });
  });

  it('returns the same message for a repeated nonce with enforce_nonce, as Discord does', async () => {
    const review = await channel('review');
    const first = await review.send({ content: 'once', nonce: 'post-42', enforceNonce: true });
    const second = await review.send({ content: 'once', nonce: 'post-42', enforceNonce: true });
    expect(second.id).toBe(first.id);
    expect(sandbox.messages()).toHaveLength(1);
    expect(sandbox.messages()[0]?.nonce).toBe('post-42');
    // Without enforce_nonce the nonce is only echoed back: a second message is made.
    await review.send({ content: 'twice', nonce: 'post-43' });
    await review.send({ content: 'twice', nonce: 'post-43' });
    expect(sandbox.messages()).toHaveLength(3);
  });

  it('forgets a nonce after the window', async () => {
    let clock = Date.now();
    await client.destroy();
    await sandbox.close();
    await connect({ now: () => clock, nonceWindowMs: 60_000 });
    const review = await channel('review');
    const first = await review.send({ content: 'a', nonce: 'n1', enforceNonce: true });
    clock += 61_000;
    const second = await review.send({ content: 'a', nonce: 'n1', enforceNonce: true });
    expect(second.id).not.toBe(first.id);
  });

  it('records edits with their history, and waitForEdit sees them', async () => {
    const sent = await postReview();
    const edited = sandbox.waitForEdit(sent.id, (m) => m.content.includes('返信済み'));
    await sent.edit({ content: '返信済み (alice)', components: [] });
    const message = await edited;
    expect(message).toMatchObject({ content: '返信済み (alice)', components: [], edits: 1 });
    expect(message.editedAt).not.toBeNull();
    expect(message.history).toEqual([expect.objectContaining({ content: 'X @someone: 届かないんだけど' })]);
    // An edit that leaves fields out keeps them.
    await sent.edit({ embeds: [{ description: 'details' }] });
    expect(sandbox.message(sent.id)).toMatchObject({ content: '返信済み (alice)', edits: 2 });
  });

  it('reads the payload_json of an upload and keeps its files by name and size', async () => {
    const review = await channel('review');
    await review.send({
      content: 'with a file',
      files: [{ attachment: Buffer.from('hello'), name: 'note.txt' }],
    });
    expect(sandbox.messages()[0]).toMatchObject({
      content: 'with a file',
      attachments: [expect.objectContaining({ filename: 'note.txt', size: 5 })],
    });
  });

  it('serves a message and a channel back, and 404s as Discord does', async () => {
    const sent = await postReview();
    const review = await channel('review');
    const fetched = await review.messages.fetch({ message: sent.id, force: true });
    expect(fetched.content).toBe(sent.content);
    const error = await review.messages.fetch({ message: '1', force: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect((error as DiscordAPIError).code).toBe(10008);
    expect((await client.channels.fetch(sandbox.channelId('pr'), { force: true }))?.id).toBe(
      sandbox.channelId('pr'),
    );
  });

  it('refuses what Discord refuses: too long, empty, duplicate custom ids', async () => {
    const review = await channel('review');
    const tooLong = await review.send({ content: 'あ'.repeat(2001) }).catch((e: unknown) => e);
    expect(tooLong).toBeInstanceOf(DiscordAPIError);
    expect((tooLong as DiscordAPIError).code).toBe(50035);
    expect((tooLong as DiscordAPIError).rawError).toMatchObject({
      errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } },
    });
    const sent = await review.send({ content: 'あ'.repeat(2000) });
    const emptied = await sent.edit({ content: '' }).catch((e: unknown) => e);
    expect((emptied as DiscordAPIError).code).toBe(50006);
    const duplicate = await review
      .send({ content: 'x', components: [row(['same', 'a'], ['same', 'b'])] })
      .catch((e: unknown) => e);
    expect((duplicate as DiscordAPIError).code).toBe(50035);
    expect(sandbox.messages()).toHaveLength(1);
  });
});

describe('interactions', () => {
  beforeEach(() => connect());

  it('delivers a click as a ButtonInteraction with custom id, member roles and locale', async () => {
    const sent = await postReview();
    const seen: ButtonInteraction[] = [];
    onInteraction(async (interaction) => {
      if (!interaction.isButton()) return;
      seen.push(interaction);
      await interaction.deferUpdate();
    });
    const outcome = await sandbox.clickButton({ messageId: sent.id, customId: 'apology:1', userId: 'alice' });
    expect(outcome).toMatchObject({ type: 'deferred-update', callbackType: 6, failure: null });
    await sandbox.clickButton({ messageId: sent.id, customId: 'thanks:1', userId: 'bob', locale: 'en-US' });

    const [byAlice, byBob] = seen;
    expect(byAlice?.customId).toBe('apology:1');
    expect(byAlice?.user.username).toBe('alice');
    expect(byAlice?.locale).toBe('ja');
    expect(byAlice?.guildLocale).toBe('ja');
    expect(byAlice?.message.id).toBe(sent.id);
    expect(byAlice?.channelId).toBe(sandbox.channelId('review'));
    const roles =
      byAlice?.member && 'cache' in byAlice.member.roles ? [...byAlice.member.roles.cache.keys()] : [];
    expect(roles).toContain(sandbox.roleId('reviewer'));
    expect(byBob?.locale).toBe('en-US');
    expect(
      byBob?.member && 'cache' in byBob.member.roles
        ? byBob.member.roles.cache.has(sandbox.roleId('reviewer'))
        : true,
    ).toBe(false);
    expect(byAlice?.memberPermissions?.has('SendMessages')).toBe(true);

    const [recorded] = sandbox.interactions();
    expect(recorded?.payload).toMatchObject({
      type: 3,
      data: { component_type: 2, custom_id: 'apology:1' },
      entitlements: [],
      authorizing_integration_owners: { '0': sandbox.guild.id },
      version: 1,
    });
  });

  it('shows a modal (action-row style) and delivers its submit with the text input values', async () => {
    const sent = await postReview();
    const submitted: ModalSubmitInteraction[] = [];
    onInteraction(async (interaction) => {
      if (interaction.isButton()) {
        const input = new TextInputBuilder()
          .setCustomId('reply')
          .setLabel('返信内容')
          .setStyle(TextInputStyle.Paragraph)
          .setValue('ご不便をおかけして申し訳ありません。')
          .setMaxLength(280);
        await interaction.showModal(
          new ModalBuilder()
            .setCustomId(`send:${interaction.customId}`)
            .setTitle('お詫びを送る')
            .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(input)),
        );
      } else if (interaction.isModalSubmit()) {
        submitted.push(interaction);
        if (interaction.isFromMessage())
          await interaction.update({
            content: `送信済み: ${interaction.fields.getTextInputValue('reply')}`,
            components: [],
          });
      }
    });

    const shown = await sandbox.clickButton({ messageId: sent.id, customId: 'apology:1', userId: 'alice' });
    expect(shown.type).toBe('modal');
    expect(shown.modal).toMatchObject({
      customId: 'send:apology:1',
      title: 'お詫びを送る',
      messageId: sent.id,
      inputs: [
        {
          customId: 'reply',
          label: '返信内容',
          style: 2,
          value: 'ご不便をおかけして申し訳ありません。',
          required: true,
          maxLength: 280,
        },
      ],
    });

    const outcome = await sandbox.submitModal({
      customId: 'send:apology:1',
      userId: 'alice',
      values: { reply: 'ご迷惑をおかけしました。確認します。' },
    });
    expect(submitted[0]?.fields.getTextInputValue('reply')).toBe('ご迷惑をおかけしました。確認します。');
    expect(submitted[0]?.message?.id).toBe(sent.id);
    expect(outcome.type).toBe('update');
    expect(outcome.message).toMatchObject({
      id: sent.id,
      content: '送信済み: ご迷惑をおかけしました。確認します。',
      components: [],
      edits: 1,
    });

    // Inputs left out keep their prefilled value; Discord's own limits still apply.
    await sandbox
      .clickButton({ messageId: sent.id, customId: 'apology:1', userId: 'alice' })
      .catch(() => null);
    await expect(
      sandbox.submitModal({
        customId: 'send:apology:1',
        userId: 'alice',
        values: { reply: 'x'.repeat(281) },
      }),
    ).rejects.toThrow(/at most 280/u);
    await expect(sandbox.submitModal({ customId: 'send:apology:1', userId: 'bob' })).rejects.toThrow(
      /someone else/u,
    );
  });

  it('mirrors a Label-style modal in its submit', async () => {
    const sent = await postReview();
    const values: string[] = [];
    onInteraction(async (interaction) => {
      if (interaction.isButton()) {
        await interaction.showModal(
          new ModalBuilder()
            .setCustomId('thanks-modal')
            .setTitle('お礼を送る')
            .addTextDisplayComponents((text) => text.setContent('元の投稿: 届いた！'))
            .addLabelComponents(
              new LabelBuilder()
                .setLabel('返信内容')
                .setTextInputComponent(
                  new TextInputBuilder()
                    .setCustomId('reply')
                    .setStyle(TextInputStyle.Paragraph)
                    .setValue('ありがとうございます！'),
                ),
            ),
        );
      } else if (interaction.isModalSubmit()) {
        values.push(interaction.fields.getTextInputValue('reply'));
        await interaction.deferUpdate();
      }
    });
    const shown = await sandbox.clickButton({ messageId: sent.id, customId: 'thanks:1', userId: 'alice' });
    expect(shown.modal?.inputs).toEqual([expect.objectContaining({ customId: 'reply', label: '返信内容' })]);
    const outcome = await sandbox.submitModal({ customId: 'thanks-modal', userId: 'alice' });
    expect(outcome.type).toBe('deferred-update');
    expect(values).toEqual(['ありがとうございます！']);
    const submitData = sandbox.interactions().at(-1)?.payload.data;
    expect(submitData).toMatchObject({
      custom_id: 'thanks-modal',
      components: [
        { type: 10 },
        { type: 18, component: { type: 4, custom_id: 'reply', value: 'ありがとうございます！' } },
      ],
    });
  });

  it('answers an ephemeral reply with flags 64, seen only by its user and kept out of the channel listing', async () => {
    const sent = await postReview();
    onInteraction(async (interaction) => {
      if (!interaction.isButton()) return;
      if (interaction.customId === 'apology:1') {
        // The deprecated option still works: discord.js turns it into flags 64 (and warns once).
        await interaction.reply({ content: 'legacy', ephemeral: true });
      } else if (interaction.customId === 'thanks:1') {
        await interaction.reply({
          content: 'この内容で送りますか？',
          components: [row(['confirm:1', '送信'])],
          flags: MessageFlags.Ephemeral,
          allowedMentions: { parse: [] },
        });
      } else {
        await interaction.update({ content: '送信しました', components: [] });
      }
    });
    const outcome = await sandbox.clickButton({ messageId: sent.id, customId: 'thanks:1', userId: 'alice' });
    expect(outcome).toMatchObject({ type: 'reply', callbackType: 4, ephemeral: true });
    expect(outcome.data).toMatchObject({ content: 'この内容で送りますか？', flags: 64 });
    expect(outcome.message).toMatchObject({
      ephemeral: true,
      flags: 64,
      interactionId: outcome.interactionId,
    });
    expect(sandbox.messages()).toHaveLength(1);
    expect(sandbox.messages(undefined, { includeEphemeral: true })).toHaveLength(2);

    const confirm = { messageId: outcome.message?.id ?? '', customId: 'confirm:1' };
    await expect(sandbox.clickButton({ ...confirm, userId: 'bob' })).rejects.toThrow(/cannot see/u);
    const confirmed = await sandbox.clickButton({ ...confirm, userId: 'alice' });
    expect(confirmed.message).toMatchObject({ content: '送信しました', ephemeral: true, edits: 1 });

    const legacy = await sandbox.clickButton({ messageId: sent.id, customId: 'apology:1', userId: 'bob' });
    expect(legacy.data.flags).toBe(64);
  });

  it('updates the message in place with interaction.update', async () => {
    const sent = await postReview();
    onInteraction(async (interaction) => {
      if (interaction.isButton()) await interaction.update({ content: '対応不要 (alice)', components: [] });
    });
    const outcome = await sandbox.clickButton({ messageId: sent.id, customId: 'dismiss:1', userId: 'alice' });
    expect(outcome.type).toBe('update');
    expect(sandbox.message(sent.id)).toMatchObject({ content: '対応不要 (alice)', components: [], edits: 1 });
    // The button is gone now: nobody can click it.
    await expect(
      sandbox.clickButton({ messageId: sent.id, customId: 'dismiss:1', userId: 'alice' }),
    ).rejects.toThrow(/no button/u);
  });

  it('takes deferUpdate then editReply and followUp through the interaction webhook', async () => {
    const sent = await postReview();
    onInteraction(async (interaction) => {
      if (!interaction.isButton()) return;
      await interaction.deferUpdate();
      await interaction.editReply({ content: '送信中…', components: [] });
      await interaction.followUp({ content: '送信しました', flags: MessageFlags.Ephemeral });
    });
    const outcome = await sandbox.clickButton({ messageId: sent.id, customId: 'thanks:1', userId: 'alice' });
    expect(outcome).toMatchObject({ type: 'deferred-update', message: { id: sent.id } });
    const followup = await sandbox.waitForInteractionResponse(
      outcome.interactionId,
      (r) => r.kind === 'followup',
    );
    expect(followup.status).toBe(200);
    expect(sandbox.message(sent.id)).toMatchObject({ content: '送信中…', edits: 1 });
    expect(
      sandbox.interactionResponses(outcome.interactionId).map((r) => [r.kind, r.target, r.status]),
    ).toEqual([
      ['callback', null, 204],
      ['edit', '@original', 200],
      ['followup', null, 200],
    ]);
    expect(sandbox.message(followup.messageId ?? '')).toMatchObject({
      content: '送信しました',
      ephemeral: true,
    });
  });

  it('shows a deferred reply as loading until editReply fills it', async () => {
    const sent = await postReview();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    onInteraction(async (interaction) => {
      if (!interaction.isButton()) return;
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      await gate;
      await interaction.editReply('エスカレーションしました');
    });
    const outcome = await sandbox.clickButton({ messageId: sent.id, customId: 'thanks:1', userId: 'alice' });
    expect(outcome.type).toBe('deferred-reply');
    expect(outcome.message?.flags).toBe(MessageFlags.Ephemeral | MessageFlags.Loading);
    release();
    const filled = await sandbox.waitForEdit(outcome.message?.id ?? '');
    expect(filled).toMatchObject({ content: 'エスカレーションしました', flags: MessageFlags.Ephemeral });
  });

  it('refuses a second callback with 40060 and lets an unanswered interaction fail', async () => {
    await client.destroy();
    await sandbox.close();
    await connect({ interactionResponseWindowMs: 150 });
    const sent = await postReview();
    let secondCallback: Promise<unknown> = Promise.resolve(null);
    onInteraction(async (interaction) => {
      if (!interaction.isButton() || interaction.customId === 'dismiss:1') return; // never answered
      await interaction.deferUpdate();
      interaction.deferred = false; // fool discord.js into answering twice
      secondCallback = interaction.deferUpdate().catch((error: unknown) => error);
    });
    const answered = await sandbox.clickButton({ messageId: sent.id, customId: 'thanks:1', userId: 'alice' });
    await sandbox.waitForInteractionResponse(answered.interactionId, (r) => r.status === 400);
    expect(((await secondCallback) as DiscordAPIError).code).toBe(40060);
    const ignored = await sandbox.clickButton({ messageId: sent.id, customId: 'dismiss:1', userId: 'alice' });
    expect(ignored).toMatchObject({ type: 'failed', failure: 'no-response' });
  });

  it('fails a click at once when no bot is connected', async () => {
    const sent = await postReview();
    await client.destroy(); // a clean close ends the session
    const outcome = await sandbox.clickButton({ messageId: sent.id, customId: 'thanks:1', userId: 'alice' });
    expect(outcome).toMatchObject({ type: 'failed', failure: 'no-gateway-session' });
  });
});

describe('components v2', () => {
  beforeEach(() => connect());

  const V2 = MessageFlags.IsComponentsV2;

  /** A review card as the app sends it: a Container with an accent colour, a text display and a row of buttons. */
  const card = (n: number, text = `レビュー ${n}: 届かないんだけど`, buttons = 5) =>
    new ContainerBuilder()
      .setAccentColor(0x5865f2)
      .addTextDisplayComponents(new TextDisplayBuilder().setContent(text))
      .addActionRowComponents(
        row(...Array.from({ length: buttons }, (_, b): [string, string] => [`c${n}:b${b}`, `ボタン${b}`])),
      );

  /** Every component of a tree, as Discord counts them: nested ones and section accessories included. */
  const countComponents = (components: readonly unknown[]): number =>
    components.reduce<number>((total, component) => {
      const { components: children = [], accessory } = component as {
        components?: unknown[];
        accessory?: unknown;
      };
      return total + 1 + countComponents(children) + (accessory === undefined ? 0 : 1);
    }, 0);

  /** A builder as it goes over the wire (no undefined fields). */
  const wire = (builder: { toJSON(): unknown }): unknown => JSON.parse(JSON.stringify(builder.toJSON()));

  /** For payloads discord.js's types (rightly) refuse. */
  const raw = (component: object) => component as APIMessageTopLevelComponent;

  const refusal = async (request: Promise<unknown>): Promise<DiscordAPIError> => {
    const error = await request.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect((error as DiscordAPIError).code).toBe(50035);
    return error as DiscordAPIError;
  };

  it('accepts 4 containers of a text display and a row of 5 buttons (32 components), stored nested with flag 32768', async () => {
    const review = await channel('review');
    const alice = sandbox.userId('alice');
    const cards = [1, 2, 3, 4].map((n) => card(n, n === 1 ? `<@${alice}> さんの担当です` : undefined));
    const sent = await review.send({ components: cards, flags: V2, allowedMentions: { users: [alice] } });

    expect(sent.flags.bitfield).toBe(32768);
    expect(sent.components.map((c) => c.type)).toEqual(Array(4).fill(ComponentType.Container));
    const stored = sandbox.message(sent.id);
    expect(stored).toMatchObject({ content: '', embeds: [], flags: 32768 });
    expect(stored?.components).toEqual(cards.map((c) => c.toJSON()));
    expect(stored?.components[0]).toMatchObject({
      type: 17,
      accent_color: 0x5865f2,
      components: [{ type: 10 }, { type: 1, components: Array(5).fill({ type: 2 }) }],
    });
    expect(countComponents(stored?.components ?? [])).toBe(32);
    // Under components v2, mentions are read from the text displays.
    expect(stored?.pings.users).toEqual([alice]);
  });

  it('counts nested components: 40 are accepted, 41 refused', async () => {
    const review = await channel('review');
    const forty = [1, 2, 3, 4, 5].map((n) => card(n));
    expect(countComponents(forty.map((c) => c.toJSON()))).toBe(40);
    await review.send({ components: forty, flags: V2 });

    const error = await refusal(review.send({ components: [...forty, new SeparatorBuilder()], flags: V2 }));
    expect(error.rawError).toMatchObject({
      errors: { components: { _errors: [{ code: 'COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED' }] } },
    });
    expect(sandbox.messages()).toHaveLength(1);
  });

  it('refuses more than 4000 characters across the text displays of a message', async () => {
    const review = await channel('review');
    const texts = (a: number, b: number) => [card(1, 'あ'.repeat(a), 1), card(2, 'い'.repeat(b), 1)];
    await review.send({ components: texts(2000, 2000), flags: V2 });

    const error = await refusal(review.send({ components: texts(2000, 2001), flags: V2 }));
    expect(error.rawError).toMatchObject({
      errors: { components: { _errors: [{ code: 'COMPONENT_MAX_TOTAL_TEXT_LENGTH_EXCEEDED' }] } },
    });
    expect(sandbox.messages()).toHaveLength(1);
  });

  it('refuses content, embeds, a poll and stickers with the flag', async () => {
    const review = await channel('review');
    const legacy = [{ code: 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2' }];
    const withContent = await refusal(
      review.send({
        content: '新しいレビュー',
        embeds: [{ description: 'x' }],
        components: [card(1)],
        flags: V2,
      }),
    );
    expect(withContent.rawError).toMatchObject({
      errors: { content: { _errors: legacy }, embeds: { _errors: legacy } },
    });
    const withPoll = await refusal(
      review.send({
        components: [card(1)],
        flags: V2,
        poll: {
          question: { text: '対応する?' },
          answers: [{ text: 'はい' }],
          duration: 1,
          allowMultiselect: false,
        },
      }),
    );
    expect(withPoll.rawError).toMatchObject({ errors: { poll: { _errors: legacy } } });
    const withSticker = await refusal(
      review.send({ components: [card(1)], flags: V2, stickers: ['1400000000000000999'] }),
    );
    expect(withSticker.rawError).toMatchObject({ errors: { sticker_ids: { _errors: legacy } } });
    expect(sandbox.messages()).toHaveLength(0);
  });

  it('refuses a component where Discord does not allow its type', async () => {
    const review = await channel('review');
    const looseButton = { type: 2, style: 1, custom_id: 'loose', label: 'loose' };
    const inContainer = await refusal(
      review.send({
        components: [raw({ type: 17, components: [{ type: 10, content: 'x' }, looseButton] })],
        flags: V2,
      }),
    );
    expect(inContainer.rawError).toMatchObject({
      errors: {
        components: {
          0: {
            components: {
              1: {
                _errors: [
                  {
                    code: 'UNION_TYPE_CHOICES',
                    message: 'Value of field "type" must be one of (1, 9, 10, 12, 13, 14).',
                  },
                ],
              },
            },
          },
        },
      },
    });
    const nested = await refusal(
      review.send({ components: [raw({ type: 17, components: [card(1).toJSON()] })], flags: V2 }),
    );
    expect(nested.rawError).toMatchObject({
      errors: { components: { 0: { components: { 0: { _errors: [{ code: 'UNION_TYPE_CHOICES' }] } } } } },
    });
    const topLevel = await refusal(review.send({ components: [raw(looseButton)], flags: V2 }));
    expect(topLevel.rawError).toMatchObject({
      errors: {
        components: {
          0: { _errors: [{ message: 'Value of field "type" must be one of (1, 9, 10, 12, 13, 14, 17).' }] },
        },
      },
    });
    // Without the flag, only action rows.
    const classic = await refusal(review.send({ content: 'x', components: [card(1)] }));
    expect(classic.rawError).toMatchObject({
      errors: { components: { 0: { _errors: [{ message: 'Value of field "type" must be one of (1,).' }] } } },
    });
    expect(sandbox.messages()).toHaveLength(0);
  });

  it('refuses malformed layouts: section, separator, accent colour, text display, duplicate ids', async () => {
    const review = await channel('review');
    const text = (content: string) => ({ type: 10, content });
    const error = await refusal(
      review.send({
        components: [
          raw({
            type: 17,
            accent_color: 0x1000000,
            components: [
              { type: 9, components: [text('a')] },
              {
                type: 9,
                components: [text('a'), text('b'), text('c'), text('d')],
                accessory: { type: 11, media: { url: 'https://x.example/a.png' } },
              },
              { type: 14, spacing: 3 },
              { type: 10 },
              { type: 14, id: 7 },
            ],
          }),
          raw({ type: 17, id: 7, components: [] }),
        ],
        flags: V2,
      }),
    );
    expect(error.rawError).toMatchObject({
      errors: {
        components: {
          0: {
            accent_color: { _errors: [{ code: 'NUMBER_TYPE_MAX' }] },
            components: {
              0: { accessory: { _errors: [{ code: 'BASE_TYPE_REQUIRED' }] } },
              1: { components: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH' }] } },
              2: { spacing: { _errors: [{ code: 'BASE_TYPE_CHOICES' }] } },
              3: { content: { _errors: [{ code: 'BASE_TYPE_REQUIRED' }] } },
            },
          },
          1: {
            id: { _errors: [{ code: 'COMPONENT_ID_DUPLICATED' }] },
            components: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH' }] },
          },
        },
      },
    });
  });

  it('keeps the flag once set: an edit cannot take it off, nor bring content back', async () => {
    const review = await channel('review');
    const sent = await review.send({ components: [card(1)], flags: V2 });
    const edited = await sent.edit({ components: [card(2)], flags: [] }); // sends flags: 0
    expect(edited.flags.bitfield).toBe(32768);
    expect(sandbox.message(sent.id)).toMatchObject({ flags: 32768, edits: 1 });

    const withContent = await refusal(sent.edit({ content: '対応済み', flags: [] }));
    expect(withContent.rawError).toMatchObject({
      errors: { content: { _errors: [{ code: 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2' }] } },
    });
    expect(sandbox.message(sent.id)).toMatchObject({ content: '', flags: 32768, edits: 1 });
  });

  it('turns a classic message into a components v2 one only when the edit clears its content', async () => {
    const sent = await postReview();
    const contentLeft = await refusal(sent.edit({ components: [card(1)], flags: V2 }));
    expect(contentLeft.rawError).toMatchObject({
      errors: { content: { _errors: [{ code: 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2' }] } },
    });
    expect(sandbox.message(sent.id)).toMatchObject({ flags: 0, edits: 0 });

    const upgraded = await sent.edit({ content: null, components: [card(1)], flags: V2 });
    expect(upgraded.flags.bitfield).toBe(32768);
    expect(sandbox.message(sent.id)).toMatchObject({ content: '', flags: 32768, edits: 1 });
  });

  it('delivers a click on a button inside a container, and takes an UPDATE_MESSAGE (7) with v2 components', async () => {
    const review = await channel('review');
    const sent = await review.send({ components: [card(1), card(2)], flags: V2 });
    const seen: ButtonInteraction[] = [];
    const done = new ContainerBuilder()
      .setAccentColor(0x57f287)
      .addTextDisplayComponents(new TextDisplayBuilder().setContent('お礼を送りました (alice)'));
    onInteraction(async (interaction) => {
      if (!interaction.isButton()) return;
      seen.push(interaction);
      await interaction.update({ components: [card(1), done], flags: MessageFlags.IsComponentsV2 });
    });

    const outcome = await sandbox.clickButton({ messageId: sent.id, customId: 'c2:b3', userId: 'alice' });
    expect(outcome).toMatchObject({ type: 'update', callbackType: 7, failure: null });
    expect(seen[0]?.customId).toBe('c2:b3');
    expect(seen[0]?.message.flags.has(V2)).toBe(true);
    expect(seen[0]?.message.components.map((c) => c.type)).toEqual([
      ComponentType.Container,
      ComponentType.Container,
    ]);
    expect(sandbox.interactions()[0]?.payload).toMatchObject({
      type: 3,
      data: { component_type: 2, custom_id: 'c2:b3' },
      message: { id: sent.id, flags: 32768, components: [wire(card(1)), wire(card(2))] },
    });
    expect(sandbox.message(sent.id)).toMatchObject({
      flags: 32768,
      edits: 1,
      components: [wire(card(1)), wire(done)],
    });
    await expect(
      sandbox.clickButton({ messageId: sent.id, customId: 'c2:b0', userId: 'alice' }),
    ).rejects.toThrow(/no button/u);
  });

  it('checks interaction replies (4) and follow-ups the same way', async () => {
    const sent = await postReview();
    const refused: unknown[] = [];
    onInteraction(async (interaction) => {
      if (!interaction.isButton()) return;
      const tooMany = [1, 2, 3, 4, 5].map((n) => card(n)).concat(card(6, 'もう一つ', 1));
      refused.push(await interaction.reply({ components: tooMany, flags: V2 }).catch((e: unknown) => e));
      await interaction.reply({ components: [card(1)], flags: V2 | MessageFlags.Ephemeral });
      refused.push(
        await interaction
          .followUp({ content: '送信しました', components: [card(2)], flags: V2 })
          .catch((e: unknown) => e),
      );
      await interaction.followUp({ components: [card(3)], flags: V2 });
    });
    const outcome = await sandbox.clickButton({ messageId: sent.id, customId: 'thanks:1', userId: 'alice' });
    expect(outcome).toMatchObject({ type: 'reply', message: { flags: V2 | MessageFlags.Ephemeral } });
    const followup = await sandbox.waitForInteractionResponse(
      outcome.interactionId,
      (r) => r.kind === 'followup' && r.status === 200,
    );
    expect(sandbox.message(followup.messageId ?? '')).toMatchObject({ flags: 32768, content: '' });
    expect(refused.map((e) => (e as DiscordAPIError).rawError)).toMatchObject([
      {
        code: 50035,
        errors: { components: { _errors: [{ code: 'COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED' }] } },
      },
      {
        code: 50035,
        errors: { content: { _errors: [{ code: 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2' }] } },
      },
    ]);
  });
});

describe('outages', () => {
  beforeEach(() => connect());

  const answerClicks = () =>
    onInteraction(async (interaction) => {
      if (interaction.isButton()) await interaction.update({ content: `clicked ${interaction.customId}` });
    });

  it('resumes after a dropped gateway connection, and clicks keep arriving', async () => {
    const sent = await postReview();
    answerClicks();
    const resumed = new Promise<void>((resolve) => client.once(Events.ShardResume, () => resolve()));
    sandbox.dropGateway();
    expect(sandbox.connectedClients).toBe(0);
    // A click while the bot is away is replayed on RESUME, as Discord replays missed events.
    const outcome = await sandbox.clickButton({ messageId: sent.id, customId: 'thanks:1', userId: 'alice' });
    await resumed;
    expect(outcome.type).toBe('update');
    expect(sandbox.gatewayStats()).toMatchObject({ identifies: 1, resumes: 1 });
    const later = await sandbox.clickButton({ messageId: sent.id, customId: 'apology:1', userId: 'alice' });
    expect(later.message?.content).toBe('clicked apology:1');
  });

  it('re-identifies when the session cannot be resumed', async () => {
    // discord.js spaces IDENTIFYs 5 s apart (SimpleIdentifyThrottler); lift that to stay quick.
    await client.destroy();
    await sandbox.close();
    await connect({}, { ws: { buildIdentifyThrottler: () => ({ waitForIdentify: async () => undefined }) } });
    const sent = await postReview();
    answerClicks();
    const readyAgain = new Promise<void>((resolve) => client.once(Events.ShardReady, () => resolve()));
    sandbox.dropGateway({ resumable: false });
    await readyAgain;
    expect(sandbox.gatewayStats()).toMatchObject({ identifies: 2, invalidSessions: 1 });
    const outcome = await sandbox.clickButton({ messageId: sent.id, customId: 'thanks:1', userId: 'alice' });
    expect(outcome.type).toBe('update');
  });

  it('reconnects when told to with op 7', async () => {
    const resumed = new Promise<void>((resolve) => client.once(Events.ShardResume, () => resolve()));
    sandbox.dropGateway({ how: 'reconnect' });
    await resumed;
    expect(sandbox.connectedClients).toBe(1);
  });

  it('answers 503 while unavailable (discord.js retries, then throws) and recovers', async () => {
    const review = await channel('review');
    sandbox.setUnavailable(true);
    const error = await review.send({ content: 'during the outage' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HTTPError);
    expect((error as HTTPError).status).toBe(503);
    // discord.js tries a request 1 + 3 times on a 5xx.
    expect(sandbox.requests().filter((r) => r.fault === 'unavailable')).toHaveLength(4);
    sandbox.setUnavailable(false);
    await review.send({ content: 'after the outage' });
    expect(sandbox.messages().map((m) => m.content)).toEqual(['after the outage']);
  });

  it('takes the gateway down too when asked, and lets the client back in afterwards', async () => {
    sandbox.setUnavailable(true, { gateway: true });
    expect(sandbox.connectedClients).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 700)); // discord.js retries every ~500 ms meanwhile
    expect(sandbox.connectedClients).toBe(0);
    sandbox.setUnavailable(false);
    await sandbox.waitForConnectedClients(1, 3000);
    expect(sandbox.gatewayStats().resumes).toBe(1);
  });

  it('rate-limits with a Discord-shaped 429 that discord.js waits out', async () => {
    const review = await channel('review');
    sandbox.faults.inject({
      fault: { kind: 'rate-limit', resetInSeconds: 0.05 },
      method: 'POST',
      path: '/api/v10/channels',
    });
    await review.send({ content: 'after a 429' });
    expect(sandbox.messages()).toHaveLength(1);
    expect(sandbox.requests().map((r) => r.status)).toEqual(expect.arrayContaining([429, 200]));
  });
});

describe('threads', () => {
  beforeEach(async () => {
    await connect();
  });

  it('starts a public thread from a message: its id is the message id, THREAD_CREATE arrives, the bot writes in it', async () => {
    const created = new Promise<[ThreadChannel, boolean]>((resolve) =>
      client.once(Events.ThreadCreate, (thread, newlyCreated) => resolve([thread, newlyCreated])),
    );
    const review = await postReview();
    const thread = await review.startThread({ name: 'case 1 — alice', autoArchiveDuration: 1440 });
    expect(thread.id).toBe(review.id);
    expect(thread.type).toBe(ChannelType.PublicThread);
    expect(thread.parentId).toBe(sandbox.channelId('review'));
    expect(thread.name).toBe('case 1 — alice');
    expect(thread.autoArchiveDuration).toBe(1440);
    const [announced, newlyCreated] = await created;
    expect([announced.id, newlyCreated]).toEqual([review.id, true]);

    await thread.send({
      content: 'お返事が届きました: ありがとうございます！',
      allowedMentions: { parse: [] },
    });
    expect(sandbox.messages(thread.id).map((m) => [m.content, m.authorId])).toEqual([
      ['お返事が届きました: ありがとうございます！', sandbox.applicationId],
    ]);
    expect(sandbox.messages(sandbox.channelId('review'))).toHaveLength(1); // the thread's message is not in the parent
    expect(sandbox.threads()).toEqual([
      expect.objectContaining({ id: review.id, parentId: sandbox.channelId('review'), messageCount: 1 }),
    ]);

    const fetched = await review.channel.messages.fetch({ message: review.id, force: true });
    expect(fetched.hasThread).toBe(true);
    expect(fetched.thread?.id).toBe(review.id);
    const refetched = await client.channels.fetch(thread.id, { force: true });
    expect(refetched?.isThread()).toBe(true);
    expect(sandbox.message(review.id)?.threadId).toBe(review.id);
  });

  it('refuses a second thread on the same message with 160004', async () => {
    const review = await postReview();
    await review.startThread({ name: 'first' });
    const error = await review.startThread({ name: 'second' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect((error as DiscordAPIError).code).toBe(160004);
    expect((error as DiscordAPIError).status).toBe(400);
    expect(sandbox.threads()).toHaveLength(1);
  });

  it('refuses a thread without a valid name or auto-archive duration with 50035, and on an unknown message with 10008', async () => {
    const review = await postReview();
    const url = `${sandbox.apiUrl}/v10/channels/${review.channelId}/messages/${review.id}/threads`;
    const post = (body: unknown, target = url) =>
      fetch(target, {
        method: 'POST',
        headers: { authorization: `Bot ${sandbox.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const noName = await post({});
    expect(noName.status).toBe(400);
    expect(await noName.json()).toMatchObject({ code: 50035, errors: { name: expect.anything() } });
    const badDuration = await post({ name: 'x', auto_archive_duration: 30 });
    expect(await badDuration.json()).toMatchObject({
      code: 50035,
      errors: { auto_archive_duration: expect.anything() },
    });
    const unknown = await post({ name: 'x' }, url.replace(review.id, '1400000000000009999'));
    expect([unknown.status, ((await unknown.json()) as { code: number }).code]).toEqual([404, 10008]);
    expect(sandbox.threads()).toEqual([]);
  });
});

describe('members writing', () => {
  /** The next MESSAGE_CREATE the bot sees from someone else. */
  const nextMemberMessage = () =>
    new Promise<Message>((resolve) =>
      client.on(Events.MessageCreate, (message) => {
        if (message.author.id !== client.user?.id) resolve(message);
      }),
    );

  it('delivers a member’s message in a thread with its content to a bot with MESSAGE_CONTENT', async () => {
    await connect(
      {},
      {
        intents: [
          GatewayIntentBits.Guilds,
          GatewayIntentBits.GuildMessages,
          GatewayIntentBits.MessageContent,
        ],
      },
    );
    const review = await postReview();
    const thread = await review.startThread({ name: 'case' });
    const seen = nextMemberMessage();
    const posted = sandbox.postAsUser(thread.id, 'alice', 'この方は先月も問い合わせていました');
    const message = await seen;
    expect(message.id).toBe(posted.id);
    expect(message.channelId).toBe(thread.id);
    expect(message.channel.isThread()).toBe(true);
    expect(message.author.username).toBe('alice');
    expect(message.author.bot).toBe(false);
    expect(message.member?.id).toBe(sandbox.userId('alice'));
    expect(message.content).toBe('この方は先月も問い合わせていました');
    expect(sandbox.messages(thread.id).map((m) => m.authorId)).toEqual([sandbox.userId('alice')]);
    expect(sandbox.threads()[0]?.messageCount).toBe(1);
  });

  it('withholds the content from a bot without MESSAGE_CONTENT unless the message mentions it, as Discord does', async () => {
    await connect(); // Guilds + GuildMessages only
    let seen = nextMemberMessage();
    sandbox.postAsUser('review', 'bob', 'a note only humans should read');
    expect((await seen).content).toBe('');
    seen = nextMemberMessage();
    sandbox.postAsUser('review', 'bob', `<@${sandbox.applicationId}> take a look`);
    expect((await seen).content).toBe(`<@${sandbox.applicationId}> take a look`);
    // The stand-in keeps the real content either way.
    expect(sandbox.messages(sandbox.channelId('review')).map((m) => m.content)).toEqual([
      'a note only humans should read',
      `<@${sandbox.applicationId}> take a look`,
    ]);
  });

  it('does not deliver members’ messages to a bot without GUILD_MESSAGES, and refuses unknown places and people', async () => {
    await connect({}, { intents: [GatewayIntentBits.Guilds] });
    let count = 0;
    client.on(Events.MessageCreate, () => count++);
    sandbox.postAsUser('review', 'alice', 'hello');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(count).toBe(0);
    expect(() => sandbox.postAsUser('no-such-channel', 'alice', 'x')).toThrow(/no channel or thread/u);
    expect(() => sandbox.postAsUser('review', 'mallory', 'x')).toThrow(/no member/u);
  });
});

describe('per-channel rate limit', () => {
  const rest = (method: string, path: string, body?: unknown) =>
    fetch(`${sandbox.apiUrl}/v10${path}`, {
      method,
      headers: { authorization: `Bot ${sandbox.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('is off by default: a burst to one channel is answered at once', async () => {
    sandbox = await startDiscordSandbox();
    const channelId = sandbox.channelId('review');
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        rest('POST', `/channels/${channelId}/messages`, { content: `${i}` }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(answers[0]?.headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('answers the sixth message within 5 s with Discord’s 429, per channel, with edits in their own bucket', async () => {
    sandbox = await startDiscordSandbox({ channelRateLimit: true });
    const review = sandbox.channelId('review');
    const first = await rest('POST', `/channels/${review}/messages`, { content: '0' });
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('5');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('4');
    expect(Number(first.headers.get('x-ratelimit-reset-after'))).toBeGreaterThan(4);
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(first.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]+$/u);
    const { id } = (await first.json()) as { id: string };
    for (let i = 1; i < 5; i++)
      expect((await rest('POST', `/channels/${review}/messages`, { content: `${i}` })).status).toBe(200);

    const refused = await rest('POST', `/channels/${review}/messages`, { content: '5' });
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as { message: string; retry_after: number; global: boolean };
    expect(body).toEqual({
      message: 'You are being rate limited.',
      retry_after: expect.any(Number),
      global: false,
    });
    expect(body.retry_after).toBeGreaterThan(0);
    expect(body.retry_after).toBeLessThanOrEqual(5);
    expect(Number(refused.headers.get('retry-after'))).toBe(Math.ceil(body.retry_after));
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('x-ratelimit-scope')).toBe('user');
    expect(sandbox.messages(review)).toHaveLength(5);

    // Another channel, and edits in this one, have buckets of their own.
    expect(
      (await rest('POST', `/channels/${sandbox.channelId('billing')}/messages`, { content: 'x' })).status,
    ).toBe(200);
    const edit = await rest('PATCH', `/channels/${review}/messages/${id}`, { content: 'edited' });
    expect(edit.status).toBe(200);
    expect(edit.headers.get('x-ratelimit-bucket')).not.toBe(first.headers.get('x-ratelimit-bucket'));
  });

  it('lets discord.js queue itself: 20 messages to one channel all arrive, at most 5 in any 5 s, without a 429', async () => {
    await connect({ channelRateLimit: true });
    const review = await channel('review');
    const sent = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        review.send({ content: `surge ${i}`, allowedMentions: { parse: [] } }),
      ),
    );
    expect(sent).toHaveLength(20);
    const stored = sandbox.messages(sandbox.channelId('review'));
    expect(stored.map((m) => m.content).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `surge ${i}`).sort(),
    );
    const posts = sandbox.requests().filter((r) => r.method === 'POST' && r.path.endsWith('/messages'));
    expect(posts.map((r) => r.status)).toEqual(Array(20).fill(200));
    const times = stored.map((m) => Date.parse(m.createdAt)).sort((a, b) => a - b);
    for (let i = 5; i < times.length; i++) {
      expect((times[i] as number) - (times[i - 5] as number)).toBeGreaterThanOrEqual(5000 - 50);
    }
  }, 30_000);

  it('makes discord.js wait out a 429 from a bucket someone else emptied, then deliver', async () => {
    await connect({ channelRateLimit: { create: { limit: 2, windowMs: 1500 } } });
    const channelId = sandbox.channelId('review');
    for (let i = 0; i < 2; i++)
      await rest('POST', `/channels/${channelId}/messages`, { content: `other ${i}` });
    const review = await channel('review');
    await review.send({ content: 'after the 429', allowedMentions: { parse: [] } });
    const statuses = sandbox
      .requests()
      .filter((r) => r.method === 'POST' && r.path.endsWith('/messages'))
      .map((r) => r.status);
    expect(statuses).toEqual([200, 200, 429, 200]);
    expect(sandbox.messages(channelId).map((m) => m.content)).toEqual([
      'other 0',
      'other 1',
      'after the 429',
    ]);
  });

  it('can be switched on for a running stand-in, with custom figures', async () => {
    sandbox = await startDiscordSandbox();
    sandbox.setChannelRateLimit({ create: { limit: 2, windowMs: 60_000 } });
    const review = sandbox.channelId('review');
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await rest('POST', `/channels/${review}/messages`, { content: `${i}` })).status);
    expect(statuses).toEqual([200, 200, 429]);
    sandbox.setChannelRateLimit(false);
    expect((await rest('POST', `/channels/${review}/messages`, { content: 'free' })).status).toBe(200);
  });
});

describe('gateway protocol (raw socket)', () => {
  /** Frames as they arrive, decoded; zlib-stream frames are inflated with the connection's context. */
  function open(query: string) {
    const socket = new WebSocket(`${sandbox.gatewayUrl}?${query}`);
    const frames: Array<{ op: number; t: string | null; d: unknown }> = [];
    let compressed = Buffer.alloc(0);
    let decoded = 0;
    socket.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) {
        frames.push(JSON.parse(String(data)));
        return;
      }
      compressed = Buffer.concat([compressed, data]);
      const text = inflateSync(compressed, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8');
      frames.push(JSON.parse(text.slice(decoded)));
      decoded = text.length;
    });
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    const frame = async (op: number) => {
      for (let i = 0; i < 100 && !frames.some((f) => f.op === op); i++)
        await new Promise((r) => setTimeout(r, 10));
      const found = frames.find((f) => f.op === op);
      if (found === undefined) throw new Error(`no op ${op} frame`);
      return found;
    };
    return {
      socket,
      frames,
      closed,
      frame,
      send: (payload: unknown) => socket.send(JSON.stringify(payload)),
    };
  }

  beforeEach(async () => {
    sandbox = await startDiscordSandbox({ heartbeatIntervalMs: 1000 });
  });

  it('speaks zlib-stream when asked: HELLO, heartbeat ACK, READY', async () => {
    const gateway = open('v=10&encoding=json&compress=zlib-stream');
    expect((await gateway.frame(10)).d).toMatchObject({ heartbeat_interval: 1000 });
    gateway.send({ op: 1, d: null });
    await gateway.frame(11);
    gateway.send({ op: 2, d: { token: sandbox.token, intents: 1, properties: {} } });
    expect((await gateway.frame(0)).t).toBe('READY');
    gateway.socket.close(1000);
    await gateway.closed;
  });

  it('closes with 4004 on a wrong token and answers an unknown session with INVALID_SESSION', async () => {
    const wrong = open('v=10&encoding=json');
    await wrong.frame(10);
    wrong.send({ op: 2, d: { token: 'nope', intents: 1, properties: {} } });
    expect(await wrong.closed).toBe(4004);
    const resume = open('v=10&encoding=json');
    await resume.frame(10);
    resume.send({ op: 6, d: { token: sandbox.token, session_id: 'gone', seq: 3 } });
    expect((await resume.frame(9)).d).toBe(false);
    resume.send({ op: 8, d: { guild_id: sandbox.guild.id, query: '', limit: 0 } });
    expect(await resume.closed).toBe(4003); // not authenticated
  });
});
