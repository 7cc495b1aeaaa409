CREATE TABLE "check_ins" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"clinic_id" uuid NOT NULL,
	"service_day" date NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"by" uuid,
	"called_at" timestamp with time zone,
	"called_by" uuid
);
--> statement-breakpoint
CREATE TABLE "dose_reviews" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"clinic_id" uuid NOT NULL,
	"service_day" date NOT NULL,
	"kind" text NOT NULL,
	"max_mg" numeric(6, 1),
	"note" text NOT NULL,
	"doctor_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "dose_reviews_kind_ck" CHECK (kind in ('resume', 'reduced', 'no_dose')),
	CONSTRAINT "dose_reviews_mg_ck" CHECK ((kind = 'reduced') = (max_mg is not null) and (max_mg is null or max_mg > 0))
);
--> statement-breakpoint
CREATE TABLE "swallow_checks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"dose_id" uuid NOT NULL,
	"patient_id" uuid NOT NULL,
	"outcome" text NOT NULL,
	"note" text DEFAULT '' NOT NULL,
	"by" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "swallow_checks_outcome_ck" CHECK (outcome in ('swallowed', 'diversion'))
);
--> statement-breakpoint
ALTER TABLE "check_ins" ADD CONSTRAINT "check_ins_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "check_ins" ADD CONSTRAINT "check_ins_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "check_ins" ADD CONSTRAINT "check_ins_by_users_id_fk" FOREIGN KEY ("by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "check_ins" ADD CONSTRAINT "check_ins_called_by_users_id_fk" FOREIGN KEY ("called_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_reviews" ADD CONSTRAINT "dose_reviews_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_reviews" ADD CONSTRAINT "dose_reviews_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_reviews" ADD CONSTRAINT "dose_reviews_doctor_id_users_id_fk" FOREIGN KEY ("doctor_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "swallow_checks" ADD CONSTRAINT "swallow_checks_dose_id_doses_id_fk" FOREIGN KEY ("dose_id") REFERENCES "public"."doses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "swallow_checks" ADD CONSTRAINT "swallow_checks_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "swallow_checks" ADD CONSTRAINT "swallow_checks_by_users_id_fk" FOREIGN KEY ("by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "check_ins_patient_day_uq" ON "check_ins" USING btree ("patient_id","clinic_id","service_day");--> statement-breakpoint
CREATE INDEX "check_ins_clinic_day_idx" ON "check_ins" USING btree ("clinic_id","service_day","at");--> statement-breakpoint
CREATE INDEX "dose_reviews_patient_day_idx" ON "dose_reviews" USING btree ("patient_id","service_day");--> statement-breakpoint
CREATE UNIQUE INDEX "swallow_checks_dose_uq" ON "swallow_checks" USING btree ("dose_id");--> statement-breakpoint
CREATE INDEX "swallow_checks_patient_idx" ON "swallow_checks" USING btree ("patient_id","outcome");