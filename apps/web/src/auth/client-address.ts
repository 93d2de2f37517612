import { BlockList, isIP } from 'node:net';
import type { Context } from 'hono';
import type { AppEnv } from '../context.ts';

/** `::ffff:10.0.0.1` → `10.0.0.1`. */
const plainIp = (ip: string) => (/^::ffff:\d+\.\d+\.\d+\.\d+$/iu.test(ip) ? ip.slice(7) : ip);

/**
 * The trusted proxies as a block list: each entry an address or a CIDR range (`10.0.0.0/8`,
 * `fd00::/8`). Throws on an entry that is neither, naming it.
 */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits, extra] = entry.trim().split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? undefined : Number(bits);
    const max = family === 6 ? 128 : 32;
    if (
      family === 0 ||
      extra !== undefined ||
      (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > max))
    ) {
      throw new Error(`"${entry}" is not an IP address or a CIDR range (like 10.0.0.0/8)`);
    }
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, prefix, type);
  }
  return list;
}

const proxyLists = new WeakMap<readonly string[], BlockList>();
function isTrusted(proxies: readonly string[], ip: string): boolean {
  let list = proxyLists.get(proxies);
  if (list === undefined) {
    list = trustedProxyList(proxies);
    proxyLists.set(proxies, list);
  }
  const family = isIP(ip);
  return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client's address: the socket's, unless that is a trusted proxy (TRUSTED_PROXIES); then the
 * nearest `X-Forwarded-For` address that is not a trusted proxy itself (a client can write any
 * addresses into the header, but not past the proxies that append to it).
 */
export function clientIp(c: Context<AppEnv>): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const socket = plainIp(env?.incoming?.socket?.remoteAddress ?? 'unknown');
  const proxies = c.get('deps').trustedProxies ?? [];
  if (proxies.length === 0 || !isTrusted(proxies, socket)) return socket;
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((part) => plainIp(part.trim()))
    .filter((part) => part !== '');
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const hop = forwarded[i] as string;
    if (isIP(hop) === 0) return socket;
    if (!isTrusted(proxies, hop)) return hop;
  }
  return forwarded[0] ?? socket;
}
