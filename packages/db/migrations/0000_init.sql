CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" jsonb NOT NULL,
	"action" text NOT NULL,
	"target" text,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "authors" (
	"platform" text NOT NULL,
	"author_id" text NOT NULL,
	"handle" text NOT NULL,
	"display_name" text DEFAULT '' NOT NULL,
	"followers" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "authors_pkey" PRIMARY KEY("platform","author_id")
);
--> statement-breakpoint
CREATE TABLE "config_versions" (
	"version" serial PRIMARY KEY NOT NULL,
	"config" jsonb NOT NULL,
	"actor" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contacts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"platform" text NOT NULL,
	"author_id" text NOT NULL,
	"handle" text NOT NULL,
	"handle_key" text NOT NULL,
	"match_id" uuid,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "contacts_match_id_key" UNIQUE("match_id")
);
--> statement-breakpoint
CREATE TABLE "discord_settings" (
	"id" integer PRIMARY KEY NOT NULL,
	"settings" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "discord_settings_single_row" CHECK ("discord_settings"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "matches" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"platform" text NOT NULL,
	"post_id" text NOT NULL,
	"account_id" uuid,
	"watches" text[] NOT NULL,
	"intent" text NOT NULL,
	"category" text,
	"priority" text NOT NULL,
	"review_channel" text NOT NULL,
	"decision" jsonb NOT NULL,
	"suppressed" boolean NOT NULL,
	"suppression_reasons" text[] DEFAULT '{}'::text[] NOT NULL,
	"escalated" boolean DEFAULT false NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"first_response_at" timestamp with time zone,
	CONSTRAINT "matches_platform_post_id_key" UNIQUE("platform","post_id"),
	CONSTRAINT "matches_status_known" CHECK (status IN ('new', 'suppressed', 'replied', 'manual_pending', 'escalated', 'dismissed'))
);
--> statement-breakpoint
CREATE TABLE "platform_accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"platform" text NOT NULL,
	"label" text NOT NULL,
	"base_url" text,
	"streaming_url" text,
	"handle" text,
	"account_id" text,
	"credentials_encrypted" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"demo" boolean DEFAULT false NOT NULL,
	"poll_interval_seconds" integer DEFAULT 60 NOT NULL,
	"stream_enabled" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "platform_accounts_platform_label_key" UNIQUE("platform","label"),
	CONSTRAINT "platform_accounts_credentials_format" CHECK ("platform_accounts"."credentials_encrypted" LIKE 'v1:%'),
	CONSTRAINT "platform_accounts_poll_interval_positive" CHECK ("platform_accounts"."poll_interval_seconds" > 0)
);
--> statement-breakpoint
CREATE TABLE "posts" (
	"platform" text NOT NULL,
	"post_id" text NOT NULL,
	"account_id" uuid,
	"url" text NOT NULL,
	"author_id" text NOT NULL,
	"text" text NOT NULL,
	"lang" text,
	"created_at" timestamp with time zone NOT NULL,
	"post" jsonb NOT NULL,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "posts_pkey" PRIMARY KEY("platform","post_id")
);
--> statement-breakpoint
CREATE TABLE "replies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"match_id" uuid NOT NULL,
	"account_id" uuid NOT NULL,
	"text" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"platform_reply_id" text,
	"url" text,
	"manual_url" text,
	"error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_by" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "replies_match_id_key" UNIQUE("match_id"),
	CONSTRAINT "replies_idempotency_key_key" UNIQUE("idempotency_key"),
	CONSTRAINT "replies_state_known" CHECK (state IN ('pending', 'sent', 'failed', 'manual_pending', 'manual_done'))
);
--> statement-breakpoint
CREATE TABLE "review_decisions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"match_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"actor" jsonb NOT NULL,
	"detail" jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "review_decisions_kind_known" CHECK (kind IN ('reply', 'manual_reply', 'escalate', 'dismiss', 'refused'))
);
--> statement-breakpoint
CREATE TABLE "review_messages" (
	"match_id" uuid PRIMARY KEY NOT NULL,
	"channel_id" text NOT NULL,
	"message_id" text,
	"nonce" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "source_states" (
	"account_id" uuid NOT NULL,
	"source_key" text NOT NULL,
	"cursor" text,
	"last_polled_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"rate_limit_remaining" integer,
	"rate_limit_limit" integer,
	"rate_limit_reset_at" timestamp with time zone,
	"not_before" timestamp with time zone,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "source_states_pkey" PRIMARY KEY("account_id","source_key")
);
--> statement-breakpoint
CREATE TABLE "usage_daily" (
	"account_id" uuid NOT NULL,
	"day" date NOT NULL,
	"posts_read" integer DEFAULT 0 NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"replies" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_daily_pkey" PRIMARY KEY("account_id","day")
);
--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_match_id_matches_id_fk" FOREIGN KEY ("match_id") REFERENCES "public"."matches"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_post_fkey" FOREIGN KEY ("platform","post_id") REFERENCES "public"."posts"("platform","post_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "replies" ADD CONSTRAINT "replies_match_id_matches_id_fk" FOREIGN KEY ("match_id") REFERENCES "public"."matches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_decisions" ADD CONSTRAINT "review_decisions_match_id_matches_id_fk" FOREIGN KEY ("match_id") REFERENCES "public"."matches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_messages" ADD CONSTRAINT "review_messages_match_id_matches_id_fk" FOREIGN KEY ("match_id") REFERENCES "public"."matches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "source_states" ADD CONSTRAINT "source_states_account_id_platform_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."platform_accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_log_action_at_idx" ON "audit_log" USING btree ("action","at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "contacts_author_idx" ON "contacts" USING btree ("platform","author_id");--> statement-breakpoint
CREATE INDEX "contacts_handle_key_idx" ON "contacts" USING btree ("handle_key");--> statement-breakpoint
CREATE INDEX "matches_status_created_idx" ON "matches" USING btree ("status","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "matches_created_idx" ON "matches" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "matches_platform_created_idx" ON "matches" USING btree ("platform","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "matches_intent_idx" ON "matches" USING btree ("intent");--> statement-breakpoint
CREATE INDEX "matches_watches_idx" ON "matches" USING gin ("watches");--> statement-breakpoint
CREATE INDEX "posts_author_idx" ON "posts" USING btree ("platform","author_id");--> statement-breakpoint
CREATE INDEX "replies_sent_at_idx" ON "replies" USING btree ("sent_at");--> statement-breakpoint
CREATE INDEX "review_decisions_match_idx" ON "review_decisions" USING btree ("match_id","at");