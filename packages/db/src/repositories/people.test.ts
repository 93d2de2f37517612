import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDb,
  decideAll,
  engineFor,
  makePost,
  NOW,
  type TestDb,
  WEB_ACTOR,
} from '../../test/support.ts';

let t: TestDb;

beforeAll(async () => {
  t = await createTestDb('people');
  const engine = engineFor();
  const account = await t.repos.accounts.create(
    { platform: 'x', label: 'main', credentials: { t: 1 } },
    WEB_ACTOR,
  );
  const posts = [
    makePost('p1', 'ブクログ最高です', {
      author: { id: 'x-hana', handle: 'hana_x', displayName: 'はな', followers: 1 },
    }),
    makePost('p2', 'ブクログ最高です', {
      author: { id: 'x-ken', handle: 'ken', displayName: 'Ken', followers: 1 },
    }),
    makePost('p3', 'ブクログ最高です', {
      platform: 'mastodon',
      url: 'https://mstdn.example/@hana/p3',
      author: { id: 'm-hana', handle: 'hana@mstdn.example', displayName: 'はな', followers: 1 },
    }),
  ];
  await t.repos.ingest.storeBatch(account.id, decideAll(engine, posts), undefined, NOW);
});
afterAll(async () => {
  await t?.drop();
});

describe('people: one customer across platforms', () => {
  it('an unlinked author is just themselves; an unknown handle is nobody', async () => {
    expect((await t.repos.people.identitiesOf('x', 'x-hana')).map((i) => i.handle)).toEqual(['hana_x']);
    expect(await t.repos.people.findByHandle('mastodon', '@nobody@nowhere')).toBeNull();
    expect((await t.repos.people.findByHandle('mastodon', '@Hana@mstdn.example'))?.authorId).toBe('m-hana');
  });

  it('links an X and a Mastodon identity (audited), merges people, and unlinks', async () => {
    const linked = await t.repos.people.link(
      { platform: 'x', authorId: 'x-hana' },
      { platform: 'mastodon', authorId: 'm-hana' },
      WEB_ACTOR,
      NOW,
    );
    expect(linked.map((i) => `${i.platform}:${i.handle}`)).toEqual([
      'x:hana_x',
      'mastodon:hana@mstdn.example',
    ]);
    expect((await t.repos.people.identitiesOf('mastodon', 'm-hana')).map((i) => i.authorId)).toEqual([
      'm-hana',
      'x-hana',
    ]);
    // Linking a third identity to one of them makes all three one person.
    await t.repos.people.link(
      { platform: 'x', authorId: 'x-ken' },
      { platform: 'mastodon', authorId: 'm-hana' },
      WEB_ACTOR,
      NOW,
    );
    expect((await t.repos.people.identitiesOf('x', 'x-hana')).map((i) => i.authorId).sort()).toEqual([
      'm-hana',
      'x-hana',
      'x-ken',
    ]);
    await t.repos.people.unlink({ platform: 'x', authorId: 'x-ken' }, WEB_ACTOR, NOW);
    expect((await t.repos.people.identitiesOf('x', 'x-ken')).map((i) => i.authorId)).toEqual(['x-ken']);
    const actions = (await t.repos.audit.list({ limit: 10 })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['person.link', 'person.unlink']));
  });

  it('refuses an identity never seen', async () => {
    await expect(
      t.repos.people.link(
        { platform: 'x', authorId: 'x-hana' },
        { platform: 'x', authorId: 'ghost' },
        WEB_ACTOR,
        NOW,
      ),
    ).rejects.toThrow(/author/u);
  });
});
