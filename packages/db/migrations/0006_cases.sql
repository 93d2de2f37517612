CREATE TABLE "case_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"match_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"reply_id" uuid,
	"actor" jsonb,
	"platform" text,
	"post_id" text,
	"url" text,
	"author_id" text,
	"author_handle" text,
	"text" text DEFAULT '' NOT NULL,
	"post" jsonb,
	"classification" jsonb,
	"detail" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"dedupe_key" text,
	"at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "case_events_dedupe_key" UNIQUE("dedupe_key"),
	CONSTRAINT "case_events_kind_known" CHECK (kind IN ('answer', 'like', 'repost', 'note', 'assigned', 'state'))
);
--> statement-breakpoint
CREATE TABLE "identity_links" (
	"platform" text NOT NULL,
	"author_id" text NOT NULL,
	"person_id" uuid NOT NULL,
	"linked_by" jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "identity_links_pkey" PRIMARY KEY("platform","author_id")
);
--> statement-breakpoint
ALTER TABLE "replies" DROP CONSTRAINT "replies_match_id_key";--> statement-breakpoint
ALTER TABLE "matches" ADD COLUMN "case_state" text DEFAULT 'open' NOT NULL;--> statement-breakpoint
ALTER TABLE "matches" ADD COLUMN "assignee" jsonb;--> statement-breakpoint
ALTER TABLE "matches" ADD COLUMN "follow_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "replies" ADD COLUMN "seq" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "replies" ADD COLUMN "target_post_id" text;--> statement-breakpoint
ALTER TABLE "replies" ADD COLUMN "target_url" text;--> statement-breakpoint
ALTER TABLE "replies" ADD COLUMN "target_handle" text;--> statement-breakpoint
ALTER TABLE "case_events" ADD CONSTRAINT "case_events_match_id_matches_id_fk" FOREIGN KEY ("match_id") REFERENCES "public"."matches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "case_events_match_idx" ON "case_events" USING btree ("match_id","at");--> statement-breakpoint
CREATE INDEX "case_events_kind_at_idx" ON "case_events" USING btree ("kind","at");--> statement-breakpoint
CREATE INDEX "identity_links_person_idx" ON "identity_links" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "matches_follow_until_idx" ON "matches" USING btree ("follow_until");--> statement-breakpoint
CREATE INDEX "replies_account_platform_reply_idx" ON "replies" USING btree ("account_id","platform_reply_id");--> statement-breakpoint
CREATE INDEX "review_messages_message_idx" ON "review_messages" USING btree ("message_id");--> statement-breakpoint
ALTER TABLE "replies" ADD CONSTRAINT "replies_match_seq_key" UNIQUE("match_id","seq");--> statement-breakpoint
ALTER TABLE "replies" ADD CONSTRAINT "replies_match_target_key" UNIQUE("match_id","target_post_id");--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_case_state_known" CHECK (case_state IN ('open', 'waiting', 'resolved'));--> statement-breakpoint
-- Matches from before cases: whatever was decided, suppressed or deleted is closed; the rest is open.
UPDATE "matches" SET "case_state" = 'resolved' WHERE "status" IN ('suppressed', 'replied', 'dismissed', 'deleted');
