import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/kikimimi.js', import.meta.url));
const CHECK = fileURLToPath(new URL('../bin/check-node.js', import.meta.url));
const ROOT_PACKAGE = fileURLToPath(new URL('../../../package.json', import.meta.url));

/** The machine's own Node when it is older than 24 (Debian's Node 20 on the CI machine). */
const OLD_NODE = '/usr/bin/node';
const oldNodeMajor = existsSync(OLD_NODE)
  ? Number(/^v(\d+)/u.exec(execFileSync(OLD_NODE, ['--version'], { encoding: 'utf8' }))?.[1] ?? 0)
  : 0;
const haveOldNode = oldNodeMajor > 0 && oldNodeMajor < 24;

async function run(node: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(node, args, {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.skipIf(!haveOldNode)(`on Node ${oldNodeMajor} (${OLD_NODE})`, () => {
  it('kikimimi says in one line what it needs and how to get it, and exits non-zero', async () => {
    const result = await run(OLD_NODE, [BIN, '--help'], { LANG: 'en_US.UTF-8' });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(new RegExp(`Node\\.js 24 or newer.*v${oldNodeMajor}\\.`, 'u'));
    expect(result.stderr).toMatch(/nodejs\.org/u);
    expect(result.stderr).toMatch(/docker compose up/u);
    expect(result.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|at /u);
  });

  it('says it in Japanese when the locale is Japanese', async () => {
    const result = await run(OLD_NODE, [BIN, 'start'], { LANG: 'ja_JP.UTF-8' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Node\.js 24 以上が必要です/u);
    expect(result.stderr).toMatch(/docker compose up/u);
  });

  it('the install check (root preinstall) stops with the same line', async () => {
    const result = await run(OLD_NODE, [CHECK], { LANG: 'en_US.UTF-8' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Node\.js 24 or newer/u);
  });
});

describe('on Node 24', () => {
  it('the check passes silently and kikimimi runs', async () => {
    expect(await run(process.execPath, [CHECK])).toEqual({ code: 0, stdout: '', stderr: '' });
    const help = await run(process.execPath, [BIN, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/kikimimi/u);
  });

  it('npm ci runs the check first (root preinstall), and npm run kikimimi goes through the launcher', () => {
    const scripts = JSON.parse(readFileSync(ROOT_PACKAGE, 'utf8')).scripts as Record<string, string>;
    expect(scripts.preinstall).toBe('node apps/cli/bin/check-node.js');
    expect(scripts.kikimimi).toMatch(/apps\/cli\/bin\/kikimimi\.js/u);
  });
});
