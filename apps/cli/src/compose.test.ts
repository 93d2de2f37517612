import { execFile, execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** `docker compose` (v2 plugin) or `docker-compose` (v1), whichever this machine has. */
function composeCommand(): string[] | null {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(candidate[0] as string, [...candidate.slice(1), 'version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not this one
    }
  }
  return null;
}
const compose = composeCommand();

describe('docker-compose.yml', () => {
  it.skipIf(compose === null)(
    'is valid for docker compose (config)',
    async () => {
      const [command, ...args] = compose as string[];
      const { stdout } = await promisify(execFile)(command as string, [...args, 'config'], { cwd: ROOT });
      for (const service of ['postgres:', 'redis:', 'migrate:', 'worker:', 'web:'])
        expect(stdout).toContain(service);
    },
    60_000,
  );

  it('runs, in its containers, the same CLI commands the tests run without Docker', async () => {
    const file = await readFile(`${ROOT}docker-compose.yml`, 'utf8');
    const dockerfile = await readFile(`${ROOT}Dockerfile`, 'utf8');
    expect(dockerfile).toContain(
      'ENTRYPOINT ["node", "--max-semi-space-size=8", "apps/cli/bin/kikimimi.js"]',
    );
    expect(dockerfile).toMatch(/^FROM node:24-slim/mu);
    expect(dockerfile).toMatch(/^USER node$/mu);
    const commands = [...file.matchAll(/command: \["(\w+)"\]/gu)].map((m) => m[1]);
    expect(commands).toEqual(['migrate', 'worker', 'web']);
    const { runCli } = await import('./main.ts');
    for (const command of commands) {
      const chunks: string[] = [];
      const io = {
        stdin: process.stdin,
        stdout: { write: (text: string) => chunks.push(text) } as unknown as NodeJS.WritableStream,
        stderr: { write: (text: string) => chunks.push(text) } as unknown as NodeJS.WritableStream,
      };
      expect(await runCli([command as string, '--help'], io)).toBe(0);
      expect(chunks.join('')).toContain(`kikimimi ${command}`);
    }
  }, 60_000);

  it("installs every workspace's dependencies in the image (each package.json copied before npm ci)", async () => {
    const dockerfile = await readFile(`${ROOT}Dockerfile`, 'utf8');
    const { workspaces } = JSON.parse(await readFile(`${ROOT}package.json`, 'utf8')) as {
      workspaces: string[];
    };
    const manifests: string[] = [];
    for (const pattern of workspaces) {
      const folder = pattern.replace(/\/\*$/u, '');
      for (const entry of await readdir(`${ROOT}${folder}`, { withFileTypes: true }))
        if (entry.isDirectory()) manifests.push(`${folder}/${entry.name}/package.json`);
    }
    expect(manifests.length).toBeGreaterThan(0);
    const copied = [...dockerfile.matchAll(/^COPY (\S+\/package\.json) /gmu)].map((m) => m[1]);
    expect(manifests.filter((manifest) => !copied.includes(manifest))).toEqual([]);
  });

  it('keeps out of the image what git ignores (the local encryption key, .env, dependencies)', async () => {
    const lines = (text: string) =>
      text
        .split('\n')
        .map((line) => line.trim().replace(/\/$/u, ''))
        .filter((line) => line !== '' && !line.startsWith('#'));
    const gitignored = lines(await readFile(`${ROOT}.gitignore`, 'utf8'));
    const dockerignored = new Set(lines(await readFile(`${ROOT}.dockerignore`, 'utf8')));
    expect(gitignored.filter((pattern) => !dockerignored.has(pattern))).toEqual([]);
  });

  it('documents every variable kikimimi reads in .env.example and passes each to its containers', async () => {
    const { webEnvSchema } = await import('@kikimimi/web');
    const { workerEnvSchema } = await import('@kikimimi/worker');
    const read = [...new Set([...Object.keys(webEnvSchema.shape), ...Object.keys(workerEnvSchema.shape)])];
    const example = await readFile(`${ROOT}.env.example`, 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gmu)].map((m) => m[1]));
    expect(read.filter((name) => !documented.has(name))).toEqual([]);
    // Every documented variable is one kikimimi reads (or compose itself uses).
    const composeOnly = ['POSTGRES_PASSWORD', 'KIKIMIMI_PORT'];
    expect(
      [...documented].filter(
        (name) => !read.includes(name as string) && !composeOnly.includes(name as string),
      ),
    ).toEqual([]);
    // The containers get every variable; in them HOST/PORT are fixed, the database and Redis are the services'.
    const compose = await readFile(`${ROOT}docker-compose.yml`, 'utf8');
    const fixedInContainers = ['HOST', 'PORT'];
    expect(
      read.filter(
        (name) => !fixedInContainers.includes(name) && !new RegExp(`^ {6}${name}:`, 'mu').test(compose),
      ),
    ).toEqual([]);
  });
});
