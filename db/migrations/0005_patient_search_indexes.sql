DROP INDEX "patients_search_name_trgm";--> statement-breakpoint
DROP INDEX "patients_phone_trgm";--> statement-breakpoint
CREATE INDEX "patients_code_trgm" ON "patients" USING gin ("code" gin_trgm_ops) WITH (fastupdate=false);--> statement-breakpoint
CREATE INDEX "patients_created_idx" ON "patients" USING btree ("created_at" DESC NULLS FIRST,"code");--> statement-breakpoint
CREATE INDEX "patients_search_name_trgm" ON "patients" USING gin ("search_name" gin_trgm_ops) WITH (fastupdate=false);--> statement-breakpoint
CREATE INDEX "patients_phone_trgm" ON "patients" USING gin ("phone_digits" gin_trgm_ops) WITH (fastupdate=false);