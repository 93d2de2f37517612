ALTER TABLE "matches" DROP CONSTRAINT "matches_status_known";--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "edited_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_status_known" CHECK (status IN ('new', 'suppressed', 'replied', 'manual_pending', 'escalated', 'dismissed', 'deleted'));