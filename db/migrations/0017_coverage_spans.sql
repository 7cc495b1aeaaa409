CREATE TABLE "coverage_spans" (
	"patient_id" uuid NOT NULL,
	"from_day" date NOT NULL,
	"to_day" date NOT NULL,
	CONSTRAINT "coverage_spans_patient_id_from_day_pk" PRIMARY KEY("patient_id","from_day"),
	CONSTRAINT "coverage_spans_order_ck" CHECK (from_day <= to_day)
);
--> statement-breakpoint
ALTER TABLE "coverage_spans" ADD CONSTRAINT "coverage_spans_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;