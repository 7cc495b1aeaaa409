CREATE TABLE "dose_day_totals" (
	"clinic_id" uuid NOT NULL,
	"service_day" date NOT NULL,
	"doses" integer NOT NULL,
	"mg" numeric(14, 1) NOT NULL,
	"patient_days" integer NOT NULL,
	CONSTRAINT "dose_day_totals_clinic_id_service_day_pk" PRIMARY KEY("clinic_id","service_day")
);
--> statement-breakpoint
ALTER TABLE "dose_day_totals" ADD CONSTRAINT "dose_day_totals_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;