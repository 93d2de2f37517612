export { type CreateDbOptions, createDb, type Database, type DbHandle } from './client.ts';
export {
  decryptSecret,
  EncryptionError,
  type EncryptionKey,
  encryptSecret,
  parseEncryptionKey,
} from './crypto.ts';
export { ensureDatabase } from './ensure-database.ts';
export { ConflictError, InvalidInputError, NotFoundError } from './errors.ts';
export { resolveEncryptionKey } from './key-file.ts';
export { MIGRATIONS_FOLDER, type MigrateOptions, migrate } from './migrate.ts';
export type { AccountRepository, PlatformAccountPatch } from './repositories/accounts.ts';
export {
  type ApiToken,
  type ApiTokenRepository,
  TOKEN_PREFIX,
  tokenNameSchema,
} from './repositories/api-tokens.ts';
export type { AuditListOptions, AuditRepository } from './repositories/audit.ts';
export {
  type CaseRepository,
  type CustomerActivity,
  caseStateAfter,
  type FollowedReply,
  type RecordedActivity,
} from './repositories/cases.ts';
export type {
  ConfigChangeResult,
  ConfigRepository,
  ConfigVersion,
  ReplaceOptions,
} from './repositories/config.ts';
export type { CustomerCase, CustomerRepository } from './repositories/customers.ts';
export type {
  DeskStore,
  DeskTransaction,
  LockedMember,
  OutboxEntry,
  OutboxJob,
  OutboxRepository,
  SurgeSkipRow,
} from './repositories/desk.ts';
export {
  type DiscordRepository,
  type DiscordSettingsResult,
  discordSettingsSchema,
} from './repositories/discord.ts';
export { createRepositories, type Repositories, type RepositoryOptions } from './repositories/index.ts';
export type {
  AuthorKey,
  IngestRepository,
  StoreBatchOptions,
  StoreBatchResult,
  StoreItem,
} from './repositories/ingest.ts';
export type { MatchFilters, MatchPage, MatchRepository } from './repositories/matches.ts';
export type { Identity, PeopleRepository } from './repositories/people.ts';
export type { PostRepository, RecentPostsOptions } from './repositories/posts.ts';
export type { BeginReply, ReplyRepository } from './repositories/replies.ts';
export type { ReviewRepository } from './repositories/reviews.ts';
export type { NewSession, SessionInfo, SessionRepository } from './repositories/sessions.ts';
export type { SourceRepository, UsageDay } from './repositories/sources.ts';
export {
  ANSWER_KINDS,
  type AnswerKind,
  type AnswersQuery,
  type CustomerAnswer,
  type CustomerVoice,
  DASHBOARD_SURGES,
  type DashboardQuery,
  type DashboardStats,
  type DashboardSurges,
  type DigestPeriodQuery,
  type EffectFigures,
  type EffectQuery,
  type EffectStats,
  type StatsPage,
  type StatsRepository,
  type VoicesQuery,
} from './repositories/stats.ts';
export type {
  AnnouncementRecord,
  SurgeAnnouncementMark,
  SurgeEscalationRecord,
  SurgeHandled,
  SurgeHandling,
  SurgeHistoryRow,
  SurgeMember,
  SurgeMemberCounts,
  SurgePeriodSummary,
  SurgeRecord,
  SurgeReplyProgress,
  SurgeRepository,
  SurgeSummaryInput,
} from './repositories/surges.ts';
export {
  LastAdminError,
  type LoginContext,
  MIN_PASSWORD_LENGTH,
  type NewUser,
  passwordSchema,
  roleSchema,
  type User,
  type UserRepository,
  type UserRole,
  usernameSchema,
} from './repositories/users.ts';
export * as tables from './schema.ts';
export type * from './types.ts';
