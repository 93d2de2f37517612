ALTER TABLE "review_messages" ADD COLUMN "grouped_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "review_messages_channel_nonce_idx" ON "review_messages" USING btree ("channel_id","nonce");--> statement-breakpoint
-- A claim from before groups may have been sent already (a crash before its id was stored): it is
-- only ever sent again as it was, so it counts as taken into its (one-review) message.
UPDATE "review_messages" SET "grouped_at" = "updated_at" WHERE "message_id" IS NULL;
