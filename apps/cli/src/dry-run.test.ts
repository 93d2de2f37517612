import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './main.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLE_CONFIG = join(ROOT, 'docs/examples/shiori-note.json');
const EXAMPLE_POSTS = join(ROOT, 'docs/examples/posts.jsonl');
const EXAMPLE_CONTACTS = join(ROOT, 'docs/examples/contacts.jsonl');
const NOW = '2026-11-24T09:30:00+09:00';

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks).toString('utf8');
}

async function run(argv: string[], stdinText = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  const code = await runCli(argv, { stdin: Readable.from([stdinText]), stdout, stderr });
  return {
    code,
    stdout: out(),
    stderr: err(),
    decisions: out()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kikimimi-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const post = (id: string, text: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    platform: 'x',
    id,
    url: `https://x.com/u/status/${id}`,
    author: { id: `a${id}`, handle: `user${id}` },
    text,
    createdAt: '2026-11-24T09:00:00+09:00',
    ...extra,
  });

describe('kikimimi dry-run', () => {
  it('decides the example posts with the example configuration', async () => {
    const { code, decisions, stderr } = await run([
      'dry-run',
      '--config',
      EXAMPLE_CONFIG,
      '--contacts',
      EXAMPLE_CONTACTS,
      '--now',
      NOW,
      EXAMPLE_POSTS,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const byId = new Map(decisions.map((d) => [d.post.id, d]));
    // Trouble on X → guidance with the X template, counted with X's weighted length.
    const login = byId.get('1860000000000000001');
    expect(login.watches).toEqual(['brand', 'login']);
    expect(login.intent).toBe('trouble');
    expect(login.category).toBe('guidance');
    expect(login.reply.templateId).toBe('guidance-x');
    expect(login.reply.limit).toBe(280);
    expect(login.route.reviewChannel).toBe('review-x');
    expect(login.suppressed).toBe(false);
    // Half-width kana praise.
    expect(byId.get('1860000000000000002').intent).toBe('praise');
    expect(byId.get('1860000000000000002').category).toBe('thanks');
    // Billing escalation.
    const billing = byId.get('1860000000000000004');
    expect(billing.escalations.map((e: { ruleId: string }) => e.ruleId)).toContain('billing');
    expect(billing.route.priority).toBe('high');
    // Our own announcement matches the campaign watch but is never put forward.
    expect(byId.get('1860000000000000005').watches).toEqual(['campaign']);
    expect(byId.get('1860000000000000005').suppression.reasons).toEqual(['own_account']);
    // Repost, do-not-contact, too old, cross-platform cooldown (linked author).
    expect(byId.get('1860000000000000006').suppression.reasons).toContain('repost');
    expect(byId.get('1860000000000000007').suppression.reasons).toContain('do_not_contact');
    expect(byId.get('1860000000000000007').escalations.map((e: { ruleId: string }) => e.ruleId)).toContain(
      'data-loss',
    );
    expect(byId.get('1860000000000000010').suppression.reasons).toContain('too_old');
    expect(byId.get('110000000000000011').suppression.reasons).toContain('author_cooldown');
    // Influencer with trouble → escalated to PR.
    expect(byId.get('1860000000000000008').escalations.map((e: { ruleId: string }) => e.ruleId)).toContain(
      'influencer',
    );
    // Noise and near-misses do not match.
    expect(byId.has('1860000000000000009')).toBe(false);
    expect(byId.has('110000000000000013')).toBe(false);
    // Mastodon campaign post goes to the campaign channel.
    expect(byId.get('110000000000000012').route.reviewChannel).toBe('campaign');
  });

  it('reads posts from stdin and prints non-matching ones with --all', async () => {
    const input = `${post('1', 'しおりノート最高！')}\n\n${post('2', 'unrelated')}\n`;
    const { code, decisions } = await run(
      ['dry-run', '--config', EXAMPLE_CONFIG, '--now', NOW, '--all'],
      input,
    );
    expect(code).toBe(0);
    expect(decisions.map((d) => [d.line, d.matched])).toEqual([
      [1, true],
      [3, false],
    ]);
  });

  it('reports bad post lines with their numbers, decides the others and exits 1', async () => {
    const input = [
      post('1', 'しおりノート最高！'),
      '{not json',
      JSON.stringify({ platform: 'x', id: '3' }),
      post('4', 'しおりノートが落ちてる'),
    ].join('\n');
    const { code, decisions, stderr } = await run(
      ['dry-run', '--config', EXAMPLE_CONFIG, '--now', NOW],
      input,
    );
    expect(code).toBe(1);
    expect(decisions.map((d) => d.line)).toEqual([1, 4]);
    expect(stderr).toMatch(/stdin:2: not valid JSON/);
    expect(stderr).toMatch(/stdin:3: not a post: .*author/);
    expect(stderr).toMatch(/2 bad line/);
  });

  it('lists every configuration problem with its path, decides nothing and exits 2', async () => {
    const config = join(dir, 'bad.json');
    await writeFile(
      config,
      JSON.stringify({
        watches: [
          { id: 'a', query: '(ブクログ OR booklog' },
          { id: 'a', query: 'ok' },
        ],
        templates: [{ id: 't', category: 'thanks', text: 'こんにちは {author.nmae}' }],
        escalation: [{ id: 'e', when: { watches: ['nope'] }, actions: {} }],
      }),
    );
    const { code, stdout, stderr } = await run(['dry-run', '--config', config], post('1', 'ブクログ'));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/watches\[0\]\.query \(at character \d+\)/);
    expect(stderr).toMatch(/watches\[1\]\.id: duplicate id "a"/);
    expect(stderr).toMatch(/templates\[0\]\.text \(at character \d+\).*author\.nmae/);
    expect(stderr).toMatch(/escalation\[0\]\.when\.watches\[0\]: no watch has the id "nope"/);
  });

  it('reports a schema violation with its path', async () => {
    const config = join(dir, 'schema.json');
    await writeFile(
      config,
      JSON.stringify({ watches: [{ id: 'Bad Id', query: 'x', platforms: ['myspace'] }] }),
    );
    const { code, stderr } = await run(['dry-run', '--config', config]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/watches\[0\]\.id:/);
    expect(stderr).toMatch(/watches\[0\]\.platforms\[0\]:/);
  });

  it.each([
    [['dry-run'], /--config FILE is required/],
    [['dry-run', '--config', 'x.json', '--now', 'yesterday'], /--now "yesterday" is not a date/],
    [['dry-run', '--bogus'], /Unknown option/],
    [['nope'], /unknown command "nope"/],
  ])('refuses bad usage %j with exit 2', async (argv, message) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('says what is wrong with unreadable or non-JSON configuration files', async () => {
    const notJson = join(dir, 'not.json');
    await writeFile(notJson, '{ watches: [');
    expect((await run(['dry-run', '--config', notJson])).stderr).toMatch(/not valid JSON/);
    expect((await run(['dry-run', '--config', join(dir, 'missing.json')])).stderr).toMatch(
      /cannot read the configuration/,
    );
  });

  it('runs as the installed `kikimimi` bin', async () => {
    const bin = join(ROOT, 'apps/cli/bin/kikimimi.js');
    const { stdout } = await promisify(execFile)(process.execPath, [
      bin,
      'dry-run',
      '--config',
      EXAMPLE_CONFIG,
      '--now',
      NOW,
      EXAMPLE_POSTS,
    ]);
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(JSON.parse(lines[0] as string).matched).toBe(true);
  });
});
