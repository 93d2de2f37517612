CREATE TABLE "surge_escalations" (
	"surge_id" text NOT NULL,
	"target" text NOT NULL,
	"created_by" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "surge_escalations_pkey" PRIMARY KEY("surge_id","target")
);
--> statement-breakpoint
CREATE TABLE "surge_reply_skips" (
	"surge_id" text NOT NULL,
	"match_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"params" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "surge_reply_skips_pkey" PRIMARY KEY("surge_id","match_id")
);
--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "not_before" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "replies" ADD COLUMN "due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "surge_escalations" ADD CONSTRAINT "surge_escalations_surge_id_surges_id_fk" FOREIGN KEY ("surge_id") REFERENCES "public"."surges"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "surge_reply_skips" ADD CONSTRAINT "surge_reply_skips_surge_id_surges_id_fk" FOREIGN KEY ("surge_id") REFERENCES "public"."surges"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "surge_reply_skips" ADD CONSTRAINT "surge_reply_skips_match_id_matches_id_fk" FOREIGN KEY ("match_id") REFERENCES "public"."matches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "replies_account_due_idx" ON "replies" USING btree ("account_id","due_at") WHERE "replies"."due_at" IS NOT NULL;