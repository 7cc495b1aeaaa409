CREATE TABLE "clinic_counters" (
	"clinic_id" uuid PRIMARY KEY NOT NULL,
	"next_patient_number" integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dose_orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"episode_id" uuid NOT NULL,
	"phase" text NOT NULL,
	"start_date" date NOT NULL,
	"end_date" date NOT NULL,
	"daily_mg" numeric(6, 1) NOT NULL,
	"split_first_mg" numeric(6, 1),
	"split_second_mg" numeric(6, 1),
	"take_home_days" integer DEFAULT 0 NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"findings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"rule_set_version_id" uuid,
	"prescribed_by" uuid NOT NULL,
	"confirmed_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dose_orders_phase_ck" CHECK (phase in ('induction', 'titration', 'maintenance', 'taper')),
	CONSTRAINT "dose_orders_range_ck" CHECK (end_date >= start_date and daily_mg > 0),
	CONSTRAINT "dose_orders_split_ck" CHECK ((split_first_mg is null) = (split_second_mg is null))
);
--> statement-breakpoint
CREATE TABLE "episodes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"clinic_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"start_date" date NOT NULL,
	"referral_source" text DEFAULT '' NOT NULL,
	"transferred_from_id" uuid,
	"end_date" date,
	"end_reason" text,
	"end_note" text DEFAULT '' NOT NULL,
	"ended_by" uuid,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "episodes_kind_ck" CHECK (kind in ('first', 're_enrolment', 'transfer_in')),
	CONSTRAINT "episodes_end_ck" CHECK ((end_date is null) = (end_reason is null) and (end_date is null or end_date >= start_date))
);
--> statement-breakpoint
CREATE TABLE "guest_authorisations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"episode_id" uuid NOT NULL,
	"host_clinic_id" uuid NOT NULL,
	"from_date" date NOT NULL,
	"to_date" date NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"authorised_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "patient_photos" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"jpeg" "bytea" NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "patients" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code" text NOT NULL,
	"home_clinic_id" uuid NOT NULL,
	"full_name" text NOT NULL,
	"search_name" text NOT NULL,
	"birth_date" date NOT NULL,
	"sex" text NOT NULL,
	"national_id" text,
	"phone" text DEFAULT '' NOT NULL,
	"phone2" text DEFAULT '' NOT NULL,
	"phone_digits" text DEFAULT '' NOT NULL,
	"street" text DEFAULT '' NOT NULL,
	"province_code" integer,
	"commune_code" integer,
	"former_address" text DEFAULT '' NOT NULL,
	"next_of_kin_name" text DEFAULT '' NOT NULL,
	"next_of_kin_phone" text DEFAULT '' NOT NULL,
	"counsellor_id" uuid,
	"hiv_status" text DEFAULT 'unknown' NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "patients_sex_ck" CHECK (sex in ('male', 'female', 'other')),
	CONSTRAINT "patients_hiv_ck" CHECK (hiv_status in ('unknown', 'negative', 'positive')),
	CONSTRAINT "patients_national_id_ck" CHECK (national_id is null or national_id ~ '^[0-9]{12}$')
);
--> statement-breakpoint
CREATE TABLE "rule_set_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"rule_set_id" uuid NOT NULL,
	"effective_from" date NOT NULL,
	"parameters" jsonb NOT NULL,
	"approved_by" text DEFAULT '' NOT NULL,
	"note" text DEFAULT '' NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rule_sets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "urine_tests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"clinic_id" uuid NOT NULL,
	"test_date" date NOT NULL,
	"results" jsonb NOT NULL,
	"recorded_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "clinics" ADD COLUMN "rule_set_id" uuid;--> statement-breakpoint
ALTER TABLE "clinic_counters" ADD CONSTRAINT "clinic_counters_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_orders" ADD CONSTRAINT "dose_orders_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_orders" ADD CONSTRAINT "dose_orders_episode_id_episodes_id_fk" FOREIGN KEY ("episode_id") REFERENCES "public"."episodes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_orders" ADD CONSTRAINT "dose_orders_rule_set_version_id_rule_set_versions_id_fk" FOREIGN KEY ("rule_set_version_id") REFERENCES "public"."rule_set_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_orders" ADD CONSTRAINT "dose_orders_prescribed_by_users_id_fk" FOREIGN KEY ("prescribed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_orders" ADD CONSTRAINT "dose_orders_confirmed_by_users_id_fk" FOREIGN KEY ("confirmed_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "episodes" ADD CONSTRAINT "episodes_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "episodes" ADD CONSTRAINT "episodes_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "episodes" ADD CONSTRAINT "episodes_ended_by_users_id_fk" FOREIGN KEY ("ended_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "episodes" ADD CONSTRAINT "episodes_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "guest_authorisations" ADD CONSTRAINT "guest_authorisations_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "guest_authorisations" ADD CONSTRAINT "guest_authorisations_episode_id_episodes_id_fk" FOREIGN KEY ("episode_id") REFERENCES "public"."episodes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "guest_authorisations" ADD CONSTRAINT "guest_authorisations_host_clinic_id_clinics_id_fk" FOREIGN KEY ("host_clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "guest_authorisations" ADD CONSTRAINT "guest_authorisations_authorised_by_users_id_fk" FOREIGN KEY ("authorised_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patient_photos" ADD CONSTRAINT "patient_photos_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patient_photos" ADD CONSTRAINT "patient_photos_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patients" ADD CONSTRAINT "patients_home_clinic_id_clinics_id_fk" FOREIGN KEY ("home_clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patients" ADD CONSTRAINT "patients_province_code_provinces_code_fk" FOREIGN KEY ("province_code") REFERENCES "public"."provinces"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patients" ADD CONSTRAINT "patients_commune_code_communes_code_fk" FOREIGN KEY ("commune_code") REFERENCES "public"."communes"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patients" ADD CONSTRAINT "patients_counsellor_id_users_id_fk" FOREIGN KEY ("counsellor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patients" ADD CONSTRAINT "patients_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rule_set_versions" ADD CONSTRAINT "rule_set_versions_rule_set_id_rule_sets_id_fk" FOREIGN KEY ("rule_set_id") REFERENCES "public"."rule_sets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rule_set_versions" ADD CONSTRAINT "rule_set_versions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "urine_tests" ADD CONSTRAINT "urine_tests_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "urine_tests" ADD CONSTRAINT "urine_tests_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "urine_tests" ADD CONSTRAINT "urine_tests_recorded_by_users_id_fk" FOREIGN KEY ("recorded_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dose_orders_episode_idx" ON "dose_orders" USING btree ("episode_id","start_date");--> statement-breakpoint
CREATE INDEX "dose_orders_patient_idx" ON "dose_orders" USING btree ("patient_id","start_date");--> statement-breakpoint
CREATE INDEX "episodes_patient_idx" ON "episodes" USING btree ("patient_id","start_date");--> statement-breakpoint
CREATE INDEX "episodes_clinic_idx" ON "episodes" USING btree ("clinic_id","start_date");--> statement-breakpoint
CREATE UNIQUE INDEX "episodes_one_open_uq" ON "episodes" USING btree ("patient_id") WHERE end_date is null;--> statement-breakpoint
CREATE INDEX "guest_auth_host_idx" ON "guest_authorisations" USING btree ("host_clinic_id","from_date","to_date");--> statement-breakpoint
CREATE INDEX "guest_auth_patient_idx" ON "guest_authorisations" USING btree ("patient_id");--> statement-breakpoint
CREATE INDEX "patient_photos_patient_idx" ON "patient_photos" USING btree ("patient_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "patients_code_uq" ON "patients" USING btree ("code");--> statement-breakpoint
CREATE UNIQUE INDEX "patients_national_id_uq" ON "patients" USING btree ("national_id") WHERE national_id is not null;--> statement-breakpoint
CREATE INDEX "patients_home_clinic_idx" ON "patients" USING btree ("home_clinic_id");--> statement-breakpoint
CREATE INDEX "patients_search_name_trgm" ON "patients" USING gin ("search_name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "patients_phone_trgm" ON "patients" USING gin ("phone_digits" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "patients_birth_idx" ON "patients" USING btree ("search_name","birth_date");--> statement-breakpoint
CREATE INDEX "rule_set_versions_set_idx" ON "rule_set_versions" USING btree ("rule_set_id","effective_from");--> statement-breakpoint
CREATE INDEX "urine_tests_patient_idx" ON "urine_tests" USING btree ("patient_id","test_date");--> statement-breakpoint
ALTER TABLE "clinics" ADD CONSTRAINT "clinics_rule_set_id_rule_sets_id_fk" FOREIGN KEY ("rule_set_id") REFERENCES "public"."rule_sets"("id") ON DELETE no action ON UPDATE no action;