ALTER TABLE "case_events" DROP CONSTRAINT "case_events_kind_known";--> statement-breakpoint
CREATE INDEX "case_events_reply_idx" ON "case_events" USING btree ("reply_id","kind");--> statement-breakpoint
ALTER TABLE "case_events" ADD CONSTRAINT "case_events_kind_known" CHECK (kind IN ('answer', 'like', 'repost', 'note', 'assigned', 'state', 'voice'));