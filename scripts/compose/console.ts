// What a user does with the console of the stack scripts/compose-smoke.sh started, over HTTP only:
//   node scripts/compose/console.ts setup BASE_URL PASSWORD_FILE
//     creates the first admin ("admin", with the password in the file)
//   node scripts/compose/console.ts matches BASE_URL PASSWORD_FILE MIN
//     signs in as that admin, waits up to a minute for MIN matches in the JSON API, prints every
//     match id, one a line
// Errors go to stderr with exit status 1.
import { readFileSync } from 'node:fs';

const [command, base, passwordFile, min] = process.argv.slice(2);
const username = 'admin';
const waitSeconds = 60;
let password = '';

const cookies = new Map<string, string>();
async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (cookies.size > 0) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
  const response = await fetch(`${base}${path}`, { ...init, headers, redirect: 'manual' });
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const at = pair?.indexOf('=') ?? -1;
    if (pair && at > 0) cookies.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return response;
}

async function csrfOf(path: string): Promise<string> {
  const response = await request(path);
  const found = /name="_csrf" value="([^"]+)"/u.exec(await response.text());
  if (!found?.[1]) throw new Error(`GET ${path} answered ${response.status} without a form`);
  return found[1];
}

async function postForm(path: string, fields: Record<string, string>): Promise<Response> {
  const _csrf = await csrfOf(path);
  return request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf, ...fields }),
  });
}

async function setup(): Promise<void> {
  const first = await request('/');
  if (!first.headers.get('location')?.endsWith('/setup'))
    throw new Error(`a fresh installation should send / to /setup; it answered ${first.status}`);
  const response = await postForm('/setup', { username, password, confirm: password });
  if (response.status !== 303) throw new Error(`POST /setup answered ${response.status}, not 303`);
  // The new session is signed in.
  const me = await request('/api/me');
  if (!me.ok) throw new Error(`after the setup, GET /api/me answered ${me.status}`);
}

async function signIn(): Promise<void> {
  const response = await postForm('/login', { username, password, next: '/' });
  if (response.status !== 303) throw new Error(`POST /login answered ${response.status}, not 303`);
}

async function matchIds(): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const response = await request(`/api/matches?limit=200${query}`);
    if (!response.ok) throw new Error(`GET /api/matches answered ${response.status}`);
    const body = (await response.json()) as { items: Array<{ id: string }>; nextCursor: string | null };
    ids.push(...body.items.map((item) => item.id));
    cursor = body.nextCursor;
  } while (cursor);
  return ids;
}

async function matches(): Promise<void> {
  const wanted = Number(min);
  if (!Number.isInteger(wanted) || wanted < 1)
    throw new Error(`MIN must be a positive integer, not "${min}"`);
  await signIn();
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const ids = await matchIds();
    if (ids.length >= wanted) {
      process.stdout.write(ids.map((id) => `${id}\n`).join(''));
      return;
    }
    if (Date.now() > deadline)
      throw new Error(`${ids.length} match(es) in the JSON API after ${waitSeconds} s; expected ${wanted}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

try {
  if (!base || !passwordFile || !/^https?:\/\//u.test(base))
    throw new Error('usage: console.ts setup|matches BASE_URL PASSWORD_FILE [MIN]');
  password = readFileSync(passwordFile, 'utf8').trim();
  if (password.length < 12) throw new Error(`the password in ${passwordFile} has fewer than 12 characters`);
  if (command === 'setup') await setup();
  else if (command === 'matches') await matches();
  else throw new Error(`unknown command "${command}"; use setup or matches`);
} catch (error) {
  process.stderr.write(`console: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
