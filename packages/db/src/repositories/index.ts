import type { Database } from '../client.ts';
import { type EncryptionKey, parseEncryptionKey } from '../crypto.ts';
import { type AccountRepository, createAccountRepository } from './accounts.ts';
import { type ApiTokenRepository, createApiTokenRepository } from './api-tokens.ts';
import { type AuditRepository, createAuditRepository } from './audit.ts';
import { type CaseRepository, createCaseRepository } from './cases.ts';
import { type ConfigRepository, createConfigRepository } from './config.ts';
import { type CustomerRepository, createCustomerRepository } from './customers.ts';
import { createDeskStore, createOutboxRepository, type DeskStore, type OutboxRepository } from './desk.ts';
import { createDiscordRepository, type DiscordRepository } from './discord.ts';
import { createIngestRepository, type IngestRepository } from './ingest.ts';
import { createMatchRepository, type MatchRepository } from './matches.ts';
import { createPeopleRepository, type PeopleRepository } from './people.ts';
import { createPostRepository, type PostRepository } from './posts.ts';
import { createReplyRepository, type ReplyRepository } from './replies.ts';
import { createReviewRepository, type ReviewRepository } from './reviews.ts';
import { createSessionRepository, type SessionRepository } from './sessions.ts';
import { createSourceRepository, type SourceRepository } from './sources.ts';
import { createStatsRepository, type StatsRepository } from './stats.ts';
import { createSurgeRepository, type SurgeRepository } from './surges.ts';
import { createUserRepository, type UserRepository } from './users.ts';

/** Every repository over one database. */
export interface Repositories {
  readonly config: ConfigRepository;
  readonly discord: DiscordRepository;
  readonly accounts: AccountRepository;
  readonly sources: SourceRepository;
  readonly ingest: IngestRepository;
  readonly matches: MatchRepository;
  readonly reviews: ReviewRepository;
  readonly replies: ReplyRepository;
  /** Cases: what the customer said back, teammates' notes, assignment and state. */
  readonly cases: CaseRepository;
  /** One customer's identities across platforms, linked by reviewers. */
  readonly people: PeopleRepository;
  /** A customer's earlier matches and our replies (the case page's history). */
  readonly customers: CustomerRepository;
  readonly audit: AuditRepository;
  readonly posts: PostRepository;
  readonly stats: StatsRepository;
  /** Surges: floods of near-identical matches reviewed as one (their members, message, announcements). */
  readonly surges: SurgeRepository;
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly apiTokens: ApiTokenRepository;
  /** The storage steps of review decisions, in one transaction (used by packages/desk). */
  readonly desk: DeskStore;
  readonly outbox: OutboxRepository;
}

export interface RepositoryOptions {
  /** The credentials key: parsed, or its text (64 hex characters or base64 of 32 bytes). */
  readonly encryptionKey: EncryptionKey | string;
}

export function createRepositories(db: Database, options: RepositoryOptions): Repositories {
  const key =
    typeof options.encryptionKey === 'string'
      ? parseEncryptionKey(options.encryptionKey)
      : parseEncryptionKey(Buffer.from(options.encryptionKey).toString('hex'));
  return {
    config: createConfigRepository(db),
    discord: createDiscordRepository(db),
    accounts: createAccountRepository(db, key),
    sources: createSourceRepository(db),
    ingest: createIngestRepository(db),
    matches: createMatchRepository(db),
    reviews: createReviewRepository(db),
    replies: createReplyRepository(db),
    cases: createCaseRepository(db),
    people: createPeopleRepository(db),
    customers: createCustomerRepository(db),
    audit: createAuditRepository(db),
    posts: createPostRepository(db),
    stats: createStatsRepository(db),
    surges: createSurgeRepository(db),
    users: createUserRepository(db),
    sessions: createSessionRepository(db),
    apiTokens: createApiTokenRepository(db),
    desk: createDeskStore(db),
    outbox: createOutboxRepository(db),
  };
}
