-- Every write that changes what the counter decides on bumps the patient's
-- facts_version. The counter reads the facts and the version, decides, and
-- writes the dose in one statement only if the version is still the one it
-- read: a concurrent dose, order, ruling, episode change or guest
-- authorisation makes it decide again. (The dose slot's primary key still
-- holds R9 on its own.)
CREATE OR REPLACE FUNCTION mp_bump_patient_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE patients SET facts_version = facts_version + 1 WHERE id = NEW.patient_id;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER doses_bump_facts AFTER INSERT OR UPDATE ON doses
  FOR EACH ROW EXECUTE FUNCTION mp_bump_patient_facts();
--> statement-breakpoint
CREATE TRIGGER dose_orders_bump_facts AFTER INSERT ON dose_orders
  FOR EACH ROW EXECUTE FUNCTION mp_bump_patient_facts();
--> statement-breakpoint
CREATE TRIGGER dose_reviews_bump_facts AFTER INSERT ON dose_reviews
  FOR EACH ROW EXECUTE FUNCTION mp_bump_patient_facts();
--> statement-breakpoint
CREATE TRIGGER episodes_bump_facts AFTER INSERT OR UPDATE ON episodes
  FOR EACH ROW EXECUTE FUNCTION mp_bump_patient_facts();
--> statement-breakpoint
CREATE TRIGGER guest_authorisations_bump_facts AFTER INSERT ON guest_authorisations
  FOR EACH ROW EXECUTE FUNCTION mp_bump_patient_facts();
