DROP INDEX "doses_clinic_day_idx";--> statement-breakpoint
CREATE INDEX "doses_clinic_day_idx" ON "doses" USING btree ("clinic_id","service_day","part","given_mg","voids_id","id");