import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';

/*
 * Where the console may send a platform token when an admin tests a connection. An instance URL is
 * typed by a person: pointed at 127.0.0.1, 0x7f000001, [::1], a private network or a cloud metadata
 * service (169.254.169.254), a test would carry the token there and show what answered. So such
 * destinations are refused unless the operator allows them (ALLOW_PRIVATE_NETWORKS, for an instance
 * on a private network): after DNS resolution, and again at every redirect.
 */

/** Loopback, private, link-local, shared, reserved, documentation and multicast ranges (IPv4 and IPv6). */
const PRIVATE = (() => {
  const list = new BlockList();
  for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const)
    list.addSubnet(net, bits, 'ipv4');
  for (const [net, bits] of [
    ['::', 128],
    ['::1', 128],
    ['64:ff9b::', 96],
    ['100::', 64],
    ['2001:db8::', 32],
    ['fc00::', 7],
    ['fe80::', 10],
    ['fec0::', 10],
    ['ff00::', 8],
  ] as const)
    list.addSubnet(net, bits, 'ipv6');
  return list;
})();

/** `::ffff:127.0.0.1` and `::ffff:7f00:1` are IPv4 addresses in disguise. */
function unmapped(ip: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/iu.exec(ip);
  if (dotted) return dotted[1] as string;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/iu.exec(ip);
  if (hex) {
    const hi = Number.parseInt(hex[1] as string, 16);
    const lo = Number.parseInt(hex[2] as string, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return ip;
}

/** True for an address the console must not reach unless private networks are allowed. */
export function isPrivateAddress(address: string): boolean {
  const ip = unmapped(address.replace(/^\[|\]$/gu, ''));
  const family = isIP(ip);
  if (family === 0) return true;
  return PRIVATE.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

export type DestinationCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** scheme: not http(s); private: a blocked address; unresolvable: no address for the name. */
      readonly reason: 'scheme' | 'private' | 'unresolvable';
      readonly host: string;
    };

export interface DestinationOptions {
  /** ALLOW_PRIVATE_NETWORKS: every destination is fine. */
  readonly allowPrivate: boolean;
  /** A path asked (without credentials) to see where the server redirects, e.g. `/api/v1/instance`. */
  readonly probePath?: string;
  /** Which addresses are refused (default isPrivateAddress). */
  readonly blocked?: (ip: string) => boolean;
  readonly maxRedirects?: number;
  readonly timeoutMs?: number;
}

const resolveAll = (host: string) =>
  new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/**
 * Asks `url` (no credentials) and returns where it redirects, over a connection pinned to
 * `address` (the one just checked: no second DNS answer can change it). Null: no redirect, or no
 * answer (the connection test itself then says what is wrong).
 */
function redirectOf(url: URL, address: LookupAddress, timeoutMs: number): Promise<URL | null> {
  return new Promise((resolve) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: 'GET',
        timeout: timeoutMs,
        headers: { accept: 'application/json' },
        lookup: (_host, options, callback) => {
          if ((options as { all?: boolean }).all) callback(null, [address] as never);
          else (callback as (e: null, a: string, f: number) => void)(null, address.address, address.family);
        },
      },
      (res) => {
        const location = res.headers.location;
        res.destroy();
        if (res.statusCode !== undefined && res.statusCode >= 300 && res.statusCode < 400 && location) {
          try {
            resolve(new URL(location, url));
            return;
          } catch {
            // A Location that is not a URL: nothing to follow.
          }
        }
        resolve(null);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/**
 * Whether the console may connect to `url`: its scheme is http(s), every address its name resolves
 * to is allowed, and so is every address of every redirect (up to `maxRedirects`).
 */
export async function checkDestination(url: string, options: DestinationOptions): Promise<DestinationCheck> {
  if (options.allowPrivate) return { ok: true };
  const blocked = options.blocked ?? isPrivateAddress;
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    return { ok: false, reason: 'scheme', host: '' };
  }
  for (let hop = 0; hop <= (options.maxRedirects ?? 3); hop++) {
    const host = current.hostname.replace(/^\[|\]$/gu, '');
    if (current.protocol !== 'https:' && current.protocol !== 'http:')
      return { ok: false, reason: 'scheme', host };
    let addresses: LookupAddress[];
    if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) }];
    else {
      try {
        addresses = await resolveAll(host);
      } catch {
        return { ok: false, reason: 'unresolvable', host };
      }
    }
    if (addresses.length === 0) return { ok: false, reason: 'unresolvable', host };
    const bad = addresses.find((a) => blocked(a.address) || isPrivateMapped(a.address, blocked));
    if (bad !== undefined)
      return { ok: false, reason: 'private', host: isIP(host) !== 0 ? host : `${host} (${bad.address})` };
    if (options.probePath === undefined) return { ok: true };
    const probe = new URL(hop === 0 ? options.probePath : current.pathname + current.search, current);
    const next = await redirectOf(
      hop === 0 ? probe : current,
      addresses[0] as LookupAddress,
      options.timeoutMs ?? 5_000,
    );
    if (next === null) return { ok: true };
    current = next;
  }
  // Too many redirects: the connection test will not follow them either.
  return { ok: true };
}

/** An IPv4-mapped IPv6 address is checked as the IPv4 address it carries. */
const isPrivateMapped = (ip: string, blocked: (ip: string) => boolean) => {
  const plain = unmapped(ip);
  return plain !== ip && blocked(plain);
};
