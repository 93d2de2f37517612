import { z } from 'zod';
import type { Suppression } from './config.ts';
import { type Author, PLATFORMS, type Platform, type Post, platformSchema, textRepostOf } from './post.ts';

/**
 * Suppression: the "don't be the annoying brand" rules. A suppressed post is still recorded, but it is
 * not put in front of a reviewer as something to answer.
 *
 * Handles: compared case-insensitively, without leading "@" and surrounding blanks. On Mastodon a
 * handle is either `name` (an account on our own instance, as Mastodon's `acct` reports it) or
 * `name@instance`:
 * - `name@instance` in the configuration matches a post by `name@instance`.
 * - A bare `name` in the configuration means the account on our own instance; it matches a post by
 *   `name`, and by `name@<our instance>` when {@link SuppressionOptions.mastodonInstance} is given. It never
 *   matches `name@some-other-instance` (a namesake elsewhere is a different person).
 * - Without `mastodonInstance` we cannot tell whether a post by bare `name` is the `name@instance` of the
 *   configuration (people paste their full handle, while the connector may report local accounts
 *   without a domain), so `name@instance` in the configuration also matches a post by bare `name`.
 *   This errs towards not answering: skipping a namesake is cheaper than answering ourselves or someone
 *   who asked us not to.
 */

/** Why a post is not put forward for a reply; the union's order is the order of importance. */
export type SuppressionReason =
  | 'own_account'
  | 'do_not_contact'
  | 'repost'
  | 'too_old'
  | 'author_cooldown'
  | 'daily_cap_reached';

/** One reply (or other approach) our accounts sent to someone; `at` is the ISO 8601 time it was sent. */
export const contactRecordSchema = z.object({
  platform: platformSchema,
  authorId: z.string().min(1),
  handle: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
  matchId: z.string().optional(),
});
export type ContactRecord = z.infer<typeof contactRecordSchema>;

/** The state a suppression check needs besides the post; the clock is passed in. */
export interface SuppressionContext {
  now: Date;
  /**
   * Our past contacts; it is enough to pass those sharing a key of {@link contactKeys} with
   * `policy.authorKeys(post.platform, post.author)`, the rest are ignored anyway.
   */
  contactHistory: readonly ContactRecord[];
  /** Replies our account sent this day (in the organisation's time zone), per platform. */
  repliesToday: Partial<Record<Platform, number>>;
}

/** The outcome of a suppression check. */
export interface SuppressionVerdict {
  suppressed: boolean;
  /** Every reason that applies, most important first. */
  reasons: SuppressionReason[];
  /** One human-readable sentence per reason, in the same order. */
  detail: string[];
}

/** Deployment facts the configuration does not carry. */
export interface SuppressionOptions {
  /** Domain of the Mastodon instance our connector reads from, e.g. "mstdn.jp": `name@it` ≡ `name`. */
  mastodonInstance?: string;
}

/** A suppression configuration compiled for repeated checks. */
export interface SuppressionPolicy {
  /** Decides whether `post` must not be answered now. Cost: O(contact history), not O(configuration). */
  check(post: Post, ctx: SuppressionContext): SuppressionVerdict;
  /**
   * Keys under which to look up the contacts that may concern this author (same id, same handle local
   * part, linked accounts): a contact matters only if {@link contactKeys} of it shares one of them.
   * A superset for a database index; {@link SuppressionPolicy.check} makes the exact decision.
   */
  authorKeys(platform: Platform, author: Pick<Author, 'id' | 'handle'>): string[];
}

const HOUR_MS = 3_600_000;

/** Handle without leading "@" or surrounding blanks, original case (for messages). */
function bareHandle(handle: string): string {
  return handle.trim().replace(/^@+/u, '');
}

/** Lower-case handle without leading "@"; on Mastodon `name@home` becomes `name` when home is known. */
export function normalizeHandle(platform: Platform, handle: string, mastodonInstance?: string): string {
  const h = bareHandle(handle).toLowerCase();
  if (platform !== 'mastodon' || mastodonInstance === undefined) return h;
  const suffix = `@${mastodonInstance.trim().replace(/^@+/u, '').toLowerCase()}`;
  return h.endsWith(suffix) ? h.slice(0, -suffix.length) : h;
}

/** The part of a normalised handle before "@" (the whole handle on X). */
function localPart(normalized: string): string {
  const at = normalized.indexOf('@');
  return at < 0 ? normalized : normalized.slice(0, at);
}

/**
 * Index keys of a contact, independent of configuration so they can be stored with it; see
 * {@link SuppressionPolicy.authorKeys} for the matching side.
 */
export function contactKeys(contact: Pick<ContactRecord, 'platform' | 'authorId' | 'handle'>): string[] {
  return [
    `id:${contact.platform}:${contact.authorId}`,
    `name:${localPart(normalizeHandle(contact.platform, contact.handle))}`,
  ];
}

/** Configured handles looked up by observed handles, with the Mastodon rules described above. */
interface HandleIndex<T> {
  add(platform: Platform, handle: string, value: T): void;
  find(platform: Platform, handle: string): readonly T[];
}

function createHandleIndex<T>(mastodonInstance: string | undefined): HandleIndex<T> {
  const exact = new Map<string, T[]>();
  // Qualified Mastodon entries by their name, for observed bare handles while our instance is unknown.
  const byLocalName = new Map<string, T[]>();
  const push = (map: Map<string, T[]>, key: string, value: T): void => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [value]);
    else list.push(value);
  };
  const none: readonly T[] = [];
  return {
    add(platform, handle, value) {
      const h = normalizeHandle(platform, handle, mastodonInstance);
      push(exact, `${platform}:${h}`, value);
      if (platform === 'mastodon' && mastodonInstance === undefined && h.includes('@')) {
        push(byLocalName, localPart(h), value);
      }
    },
    find(platform, handle) {
      const h = normalizeHandle(platform, handle, mastodonInstance);
      const direct = exact.get(`${platform}:${h}`) ?? none;
      if (platform !== 'mastodon' || mastodonInstance !== undefined || h.includes('@')) return direct;
      const loose = byLocalName.get(h);
      return loose === undefined ? direct : [...direct, ...loose];
    },
  };
}

const PLATFORM_NAMES: ReadonlySet<string> = new Set(PLATFORMS);

/** Parses "platform:handle"; undefined for platforms kikimimi does not (yet) know. */
function parseAccountRef(ref: string): { platform: Platform; handle: string } | undefined {
  const colon = ref.indexOf(':');
  const platform = ref.slice(0, colon);
  const handle = ref.slice(colon + 1);
  if (colon < 0 || !PLATFORM_NAMES.has(platform) || bareHandle(handle) === '') return undefined;
  return { platform: platform as Platform, handle };
}

/** Groups linked accounts, merging groups that share an account, into group ids by handle. */
function indexLinkedAuthors(
  groups: readonly (readonly string[])[],
  mastodonInstance: string | undefined,
): { index: HandleIndex<number>; names: Map<number, string[]> } {
  const parent = groups.map((_, i) => i);
  const root = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r] ?? r;
    return r;
  };
  const parsed = groups.map((group) => group.map(parseAccountRef).filter((ref) => ref !== undefined));
  const firstGroupOf = new Map<string, number>();
  parsed.forEach((refs, i) => {
    for (const ref of refs) {
      const key = `${ref.platform}:${normalizeHandle(ref.platform, ref.handle, mastodonInstance)}`;
      const seen = firstGroupOf.get(key);
      if (seen === undefined) firstGroupOf.set(key, i);
      else parent[root(i)] = root(seen);
    }
  });
  const index = createHandleIndex<number>(mastodonInstance);
  const names = new Map<number, string[]>();
  parsed.forEach((refs, i) => {
    const r = root(i);
    const list = names.get(r) ?? [];
    names.set(r, list);
    for (const ref of refs) {
      index.add(ref.platform, ref.handle, r);
      list.push(localPart(normalizeHandle(ref.platform, ref.handle)));
    }
  });
  return { index, names };
}

/** "5 h ago", "12 min ago": coarse on purpose, the reviewer needs an idea, not a timestamp. */
function formatAgo(ms: number): string {
  if (ms < 60_000) return 'less than a minute ago';
  if (ms < HOUR_MS) return `${Math.floor(ms / 60_000)} min ago`;
  return `${Math.floor(ms / HOUR_MS)} h ago`;
}

type Relation = 'same_author' | 'linked' | 'same_name';

const RELATION_RANK: Record<Relation, number> = { same_author: 0, linked: 1, same_name: 2 };

const RELATION_NOTE: Record<Relation, string> = {
  same_author: '',
  linked: ', a linked account',
  same_name: ', same handle on another platform',
};

/**
 * Compiles a suppression configuration. Rules:
 * - own_account / do_not_contact: the author's handle is listed (handle rules: see the module comment).
 * - repost: `ignoreReposts` and `post.repostOf` is set or the text is a text repost ("RT @name: …",
 *   see {@link textRepostOf}) on any platform.
 * - too_old: the post is more than `maxAgeHours` old (exactly `maxAgeHours` is still fine); 0 disables.
 * - author_cooldown: we contacted the same person less than `authorCooldownHours` ago (exactly
 *   `authorCooldownHours` ago no longer counts; contacts after `now` are ignored); 0 disables. The same
 *   person is the same platform and author id or handle, an account linked to it in `linkedAuthors`, or,
 *   with `linkHandlesAcrossPlatforms`, the same handle local part on another platform (x:foo and
 *   mastodon:foo@any-instance, but not mastodon:foo@a and mastodon:foo@b).
 * - daily_cap_reached: `repliesToday[platform] >= dailyReplyCap[platform]`; a cap of 0 stops all replies
 *   on that platform, an absent cap means no cap.
 */
export function createSuppressionPolicy(
  config: Suppression,
  options: SuppressionOptions = {},
): SuppressionPolicy {
  const home = options.mastodonInstance;
  const own = createHandleIndex<true>(home);
  for (const account of config.ownAccounts) own.add(account.platform, account.handle, true);
  const doNotContact = createHandleIndex<string | undefined>(home);
  for (const entry of config.doNotContact) doNotContact.add(entry.platform, entry.handle, entry.note);
  const linked = indexLinkedAuthors(config.linkedAuthors, home);
  const maxAgeMs = config.maxAgeHours * HOUR_MS;
  const cooldownMs = config.authorCooldownHours * HOUR_MS;

  const linkedGroups = (platform: Platform, handle: string): ReadonlySet<number> =>
    new Set(linked.index.find(platform, handle));

  return {
    authorKeys(platform, author) {
      const keys = new Set([`id:${platform}:${author.id}`]);
      keys.add(`name:${localPart(normalizeHandle(platform, author.handle))}`);
      for (const group of linkedGroups(platform, author.handle)) {
        for (const name of linked.names.get(group) ?? []) keys.add(`name:${name}`);
      }
      return [...keys];
    },

    check(post, ctx) {
      const reasons: SuppressionReason[] = [];
      const detail: string[] = [];
      const nowMs = ctx.now.getTime();
      const shown = `@${bareHandle(post.author.handle)}`;

      if (own.find(post.platform, post.author.handle).length > 0) {
        reasons.push('own_account');
        detail.push(`${shown} is our own account on ${post.platform}`);
      }

      const notes = doNotContact.find(post.platform, post.author.handle);
      if (notes.length > 0) {
        const note = notes.find((n) => n !== undefined && n.trim() !== '');
        reasons.push('do_not_contact');
        detail.push(
          `${shown} on ${post.platform} asked not to be contacted${note === undefined ? '' : ` (${note.trim()})`}`,
        );
      }

      if (config.ignoreReposts) {
        const textRepost = post.repostOf === null ? textRepostOf(post.text) : undefined;
        if (post.repostOf !== null) {
          reasons.push('repost');
          detail.push(`a repost of ${post.repostOf}; reposts are not answered`);
        } else if (textRepost !== undefined) {
          reasons.push('repost');
          detail.push(`a repost of ${textRepost}'s post ("RT ${textRepost}"); reposts are not answered`);
        }
      }

      const ageMs = nowMs - Date.parse(post.createdAt);
      if (maxAgeMs > 0 && ageMs > maxAgeMs) {
        reasons.push('too_old');
        detail.push(`posted ${formatAgo(ageMs)} (max age ${config.maxAgeHours} h)`);
      }

      if (cooldownMs > 0 && ctx.contactHistory.length > 0) {
        const postHandle = normalizeHandle(post.platform, post.author.handle, home);
        const postName = localPart(postHandle);
        const postGroups = linkedGroups(post.platform, post.author.handle);
        const relate = (contact: ContactRecord): Relation | undefined => {
          if (
            contact.platform === post.platform &&
            (contact.authorId === post.author.id ||
              normalizeHandle(contact.platform, contact.handle, home) === postHandle)
          ) {
            return 'same_author';
          }
          if (
            postGroups.size > 0 &&
            linked.index.find(contact.platform, contact.handle).some((g) => postGroups.has(g))
          ) {
            return 'linked';
          }
          if (
            config.linkHandlesAcrossPlatforms &&
            contact.platform !== post.platform &&
            localPart(normalizeHandle(contact.platform, contact.handle)) === postName
          ) {
            return 'same_name';
          }
          return undefined;
        };

        let best: { contact: ContactRecord; elapsed: number; relation: Relation } | undefined;
        for (const contact of ctx.contactHistory) {
          const elapsed = nowMs - Date.parse(contact.at);
          // NaN (unparseable time) fails both comparisons and is skipped with the future contacts.
          if (!(elapsed >= 0 && elapsed < cooldownMs)) continue;
          if (best !== undefined && elapsed > best.elapsed) continue;
          const relation = relate(contact);
          if (relation === undefined) continue;
          if (
            best === undefined ||
            elapsed < best.elapsed ||
            RELATION_RANK[relation] < RELATION_RANK[best.relation]
          ) {
            best = { contact, elapsed, relation };
          }
        }
        if (best !== undefined) {
          reasons.push('author_cooldown');
          detail.push(
            `replied to @${bareHandle(best.contact.handle)} on ${best.contact.platform} ${formatAgo(best.elapsed)}` +
              `${RELATION_NOTE[best.relation]} (cooldown ${config.authorCooldownHours} h)`,
          );
        }
      }

      const cap = config.dailyReplyCap[post.platform];
      const sent = ctx.repliesToday[post.platform] ?? 0;
      if (cap !== undefined && sent >= cap) {
        reasons.push('daily_cap_reached');
        detail.push(`${sent} of ${cap} replies on ${post.platform} sent today (daily cap)`);
      }

      return { suppressed: reasons.length > 0, reasons, detail };
    },
  };
}
