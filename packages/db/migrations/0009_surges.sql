CREATE TABLE "surge_announcements" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"surge_id" text NOT NULL,
	"account_id" uuid NOT NULL,
	"platform" text NOT NULL,
	"text" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"platform_post_id" text,
	"url" text,
	"error" text,
	"created_by" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "surge_announcements_surge_account_key" UNIQUE("surge_id","account_id"),
	CONSTRAINT "surge_announcements_idempotency_key_key" UNIQUE("idempotency_key"),
	CONSTRAINT "surge_announcements_state_known" CHECK (state IN ('pending', 'sent', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "surges" (
	"id" text PRIMARY KEY NOT NULL,
	"watch_id" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"detected_at" timestamp with time zone NOT NULL,
	"first_at" timestamp with time zone NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	"intents" jsonb NOT NULL,
	"platforms" jsonb NOT NULL,
	"examples" jsonb NOT NULL,
	"per_minute" jsonb NOT NULL,
	"handling" text[] DEFAULT '{}'::text[] NOT NULL,
	"closed_at" timestamp with time zone,
	"closed_by" text,
	"channel_id" text,
	"message_id" text,
	"nonce" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "surges_status_known" CHECK (status IN ('open', 'closed'))
);
--> statement-breakpoint
ALTER TABLE "matches" ADD COLUMN "surge_id" text;--> statement-breakpoint
ALTER TABLE "matches" ADD COLUMN "surge_pending" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "surge_announcements" ADD CONSTRAINT "surge_announcements_surge_id_surges_id_fk" FOREIGN KEY ("surge_id") REFERENCES "public"."surges"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "surges_status_detected_idx" ON "surges" USING btree ("status","detected_at");--> statement-breakpoint
CREATE INDEX "surges_detected_idx" ON "surges" USING btree ("detected_at");--> statement-breakpoint
ALTER TABLE "matches" ADD CONSTRAINT "matches_surge_id_surges_id_fk" FOREIGN KEY ("surge_id") REFERENCES "public"."surges"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "matches_surge_idx" ON "matches" USING btree ("surge_id","created_at");