CREATE TABLE "pump_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"pump_id" uuid NOT NULL,
	"dose_id" uuid,
	"kind" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"by" uuid,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "pump_events_kind_ck" CHECK (kind in ('dispense', 'done', 'fault', 'unknown', 'not_started', 'stop', 'resolve', 'calibration', 'confirm', 'prime', 'alarm', 'day_volume'))
);
--> statement-breakpoint
CREATE TABLE "pumps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"clinic_id" uuid NOT NULL,
	"name" text NOT NULL,
	"path" text NOT NULL,
	"baud_rate" integer DEFAULT 9600 NOT NULL,
	"expected_serial" text,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pumps_baud_ck" CHECK (baud_rate in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200))
);
--> statement-breakpoint
ALTER TABLE "clinics" ADD COLUMN "pump_calibration_max_hours" integer DEFAULT 24 NOT NULL;--> statement-breakpoint
ALTER TABLE "pump_events" ADD CONSTRAINT "pump_events_pump_id_pumps_id_fk" FOREIGN KEY ("pump_id") REFERENCES "public"."pumps"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pump_events" ADD CONSTRAINT "pump_events_dose_id_doses_id_fk" FOREIGN KEY ("dose_id") REFERENCES "public"."doses"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pump_events" ADD CONSTRAINT "pump_events_by_users_id_fk" FOREIGN KEY ("by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pumps" ADD CONSTRAINT "pumps_clinic_id_clinics_id_fk" FOREIGN KEY ("clinic_id") REFERENCES "public"."clinics"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "pump_events_pump_idx" ON "pump_events" USING btree ("pump_id","kind","at");--> statement-breakpoint
CREATE INDEX "pump_events_dose_idx" ON "pump_events" USING btree ("dose_id") WHERE dose_id is not null;--> statement-breakpoint
CREATE INDEX "pumps_clinic_idx" ON "pumps" USING btree ("clinic_id");--> statement-breakpoint
CREATE UNIQUE INDEX "pumps_clinic_path_uq" ON "pumps" USING btree ("clinic_id","path") WHERE active;--> statement-breakpoint
CREATE INDEX "doses_unresolved_idx" ON "doses" USING btree ("patient_id") WHERE status in ('pending', 'unknown');--> statement-breakpoint
ALTER TABLE "clinics" ADD CONSTRAINT "clinics_pump_cal_ck" CHECK (pump_calibration_max_hours between 1 and 720);