CREATE TABLE "alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"episode_id" uuid NOT NULL,
	"clinic_id" uuid NOT NULL,
	"level" text NOT NULL,
	"anchor_day" date NOT NULL,
	"raised_day" date NOT NULL,
	"missed_days" integer NOT NULL,
	"reasons" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"raised_at" timestamp with time zone NOT NULL,
	"closed_note" text DEFAULT '' NOT NULL,
	"closed_at" timestamp with time zone,
	"closed_as" text,
	"closed_by" uuid,
	CONSTRAINT "alerts_level_ck" CHECK (level in ('missed', 'counsellor', 'doctor', 'dropout', 'review')),
	CONSTRAINT "alerts_closed_ck" CHECK ((closed_at is null) = (closed_as is null)),
	CONSTRAINT "alerts_closed_as_ck" CHECK (closed_as is null or closed_as in ('returned', 'episode_ended', 'dropout_confirmed', 'dropout_rejected', 'reviewed'))
);
--> statement-breakpoint
CREATE TABLE "contacts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"episode_id" uuid,
	"clinic_id" uuid NOT NULL,
	"method" text NOT NULL,
	"outcome" text NOT NULL,
	"return_date" date,
	"hold_until" date,
	"next_action_date" date,
	"note" text DEFAULT '' NOT NULL,
	"by" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "contacts_method_ck" CHECK (method in ('phone', 'text', 'home_visit', 'family', 'peer')),
	CONSTRAINT "contacts_outcome_ck" CHECK (outcome in ('reached', 'unreachable', 'hospital', 'custody', 'moved', 'deceased', 'refuses')),
	CONSTRAINT "contacts_hold_ck" CHECK ((hold_until is not null) = (outcome in ('hospital', 'custody'))),
	CONSTRAINT "contacts_return_ck" CHECK (return_date is null or outcome = 'reached')
);
--> statement-breakpoint
CREATE TABLE "day_closes" (
	"clinic_id" uuid NOT NULL,
	"service_day" date NOT NULL,
	"run_by" uuid,
	"patients" integer NOT NULL,
	"alerts_raised" integer NOT NULL,
	"alerts_closed" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "day_closes_clinic_id_service_day_pk" PRIMARY KEY("clinic_id","service_day")
);
--> statement-breakpoint
CREATE TABLE "inbox" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"alert_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"read_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"alert_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"claimed_until" timestamp with time zone,
	"claimed_by" uuid,
	"delivered_at" timestamp with time zone,
	"last_error" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_channel_ck" CHECK (channel in ('email', 'webhook')),
	CONSTRAINT "outbox_status_ck" CHECK (status in ('pending', 'delivered', 'failed', 'cancelled'))
);
--> statement-breakpoint
CREATE TABLE "outbox_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"outbox_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"ok" boolean NOT NULL,
	"detail" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "clinics" ADD COLUMN "closing_time" text DEFAULT '17:00' NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "email" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "notify_email" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "notify_webhook" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "webhook_to" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_episode_id_episodes_id_fk" FOREIGN KEY ("episode_id") REFERENCES "public"."episodes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_closed_by_users_id_fk" FOREIGN KEY ("closed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_episode_id_episodes_id_fk" FOREIGN KEY ("episode_id") REFERENCES "public"."episodes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_by_users_id_fk" FOREIGN KEY ("by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "day_closes" ADD CONSTRAINT "day_closes_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "day_closes" ADD CONSTRAINT "day_closes_run_by_users_id_fk" FOREIGN KEY ("run_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbox" ADD CONSTRAINT "inbox_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbox" ADD CONSTRAINT "inbox_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbox_attempts" ADD CONSTRAINT "outbox_attempts_outbox_id_outbox_id_fk" FOREIGN KEY ("outbox_id") REFERENCES "public"."outbox"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_open_uq" ON "alerts" USING btree ("episode_id","level") WHERE closed_at is null;--> statement-breakpoint
CREATE INDEX "alerts_patient_idx" ON "alerts" USING btree ("patient_id","raised_at");--> statement-breakpoint
CREATE INDEX "alerts_clinic_open_idx" ON "alerts" USING btree ("clinic_id") WHERE closed_at is null;--> statement-breakpoint
CREATE INDEX "alerts_ruled_idx" ON "alerts" USING btree ("episode_id","level","anchor_day") WHERE closed_as in ('dropout_rejected', 'reviewed');--> statement-breakpoint
CREATE INDEX "contacts_patient_idx" ON "contacts" USING btree ("patient_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "inbox_user_alert_uq" ON "inbox" USING btree ("user_id","alert_id");--> statement-breakpoint
CREATE INDEX "inbox_unread_idx" ON "inbox" USING btree ("user_id") WHERE read_at is null;--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_alert_user_channel_uq" ON "outbox" USING btree ("alert_id","user_id","channel");--> statement-breakpoint
CREATE INDEX "outbox_due_idx" ON "outbox" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "outbox_created_idx" ON "outbox" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "outbox_attempts_outbox_idx" ON "outbox_attempts" USING btree ("outbox_id","at");--> statement-breakpoint
CREATE INDEX "patients_counsellor_idx" ON "patients" USING btree ("counsellor_id");--> statement-breakpoint
CREATE INDEX "urine_tests_positive_idx" ON "urine_tests" USING btree ("patient_id","test_date") WHERE jsonb_path_exists(results - 'methadone', '$.* ? (@ == "positive")');--> statement-breakpoint
ALTER TABLE "clinics" ADD CONSTRAINT "clinics_closing_time_ck" CHECK (closing_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$');