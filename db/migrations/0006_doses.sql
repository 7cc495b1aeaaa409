CREATE TABLE "dose_slots" (
	"patient_id" uuid NOT NULL,
	"service_day" date NOT NULL,
	"part" integer NOT NULL,
	"dose_id" uuid NOT NULL,
	CONSTRAINT "dose_slots_patient_id_service_day_part_pk" PRIMARY KEY("patient_id","service_day","part")
);
--> statement-breakpoint
CREATE TABLE "doses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"episode_id" uuid NOT NULL,
	"order_id" uuid,
	"clinic_id" uuid NOT NULL,
	"service_day" date NOT NULL,
	"part" integer DEFAULT 1 NOT NULL,
	"outcome" text NOT NULL,
	"status" text DEFAULT 'completed' NOT NULL,
	"prescribed_mg" numeric(6, 1) NOT NULL,
	"given_mg" numeric(6, 1) DEFAULT 0 NOT NULL,
	"ml" numeric(7, 2) DEFAULT 0 NOT NULL,
	"concentration" numeric(6, 2) NOT NULL,
	"method" text DEFAULT 'manual' NOT NULL,
	"intoxication" text,
	"breath_alcohol" numeric(5, 3),
	"decision" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"rule_set_version_id" uuid,
	"given_by" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"voids_id" uuid,
	"void_reason" text,
	"request_id" text,
	CONSTRAINT "doses_outcome_ck" CHECK (outcome in ('given', 'take_home', 'supplied', 'withheld', 'refused', 'vomited', 'spilled')),
	CONSTRAINT "doses_status_ck" CHECK (status in ('completed', 'pending', 'failed', 'unknown')),
	CONSTRAINT "doses_part_ck" CHECK (part in (1, 2)),
	CONSTRAINT "doses_mg_ck" CHECK (given_mg >= 0 and given_mg <= prescribed_mg and prescribed_mg > 0)
);
--> statement-breakpoint
ALTER TABLE "dose_slots" ADD CONSTRAINT "dose_slots_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_slots" ADD CONSTRAINT "dose_slots_dose_id_doses_id_fk" FOREIGN KEY ("dose_id") REFERENCES "public"."doses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "doses" ADD CONSTRAINT "doses_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "doses" ADD CONSTRAINT "doses_episode_id_episodes_id_fk" FOREIGN KEY ("episode_id") REFERENCES "public"."episodes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "doses" ADD CONSTRAINT "doses_order_id_dose_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."dose_orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "doses" ADD CONSTRAINT "doses_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "doses" ADD CONSTRAINT "doses_rule_set_version_id_rule_set_versions_id_fk" FOREIGN KEY ("rule_set_version_id") REFERENCES "public"."rule_set_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "doses" ADD CONSTRAINT "doses_given_by_users_id_fk" FOREIGN KEY ("given_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "doses" ADD CONSTRAINT "doses_voids_id_doses_id_fk" FOREIGN KEY ("voids_id") REFERENCES "public"."doses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "dose_slots_dose_uq" ON "dose_slots" USING btree ("dose_id");--> statement-breakpoint
CREATE INDEX "doses_patient_day_idx" ON "doses" USING btree ("patient_id","service_day");--> statement-breakpoint
CREATE INDEX "doses_clinic_day_idx" ON "doses" USING btree ("clinic_id","service_day");--> statement-breakpoint
CREATE UNIQUE INDEX "doses_request_uq" ON "doses" USING btree ("request_id");--> statement-breakpoint
CREATE UNIQUE INDEX "doses_voids_uq" ON "doses" USING btree ("voids_id");