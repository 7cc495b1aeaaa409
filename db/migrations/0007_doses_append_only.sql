-- Dose records are never rewritten. The one move allowed: a pump dose from
-- pending (or unknown, once a nurse resolves it) to its final state, with the
-- volume actually delivered. Everything else about the row stays as written.
CREATE OR REPLACE FUNCTION mp_dose_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'append-only table doses: DELETE is not allowed' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.status NOT IN ('pending', 'unknown') OR NEW.status = OLD.status THEN
    RAISE EXCEPTION 'append-only table doses: only a pending or unknown dose may be resolved' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.id, NEW.patient_id, NEW.episode_id, NEW.order_id, NEW.clinic_id, NEW.service_day, NEW.part, NEW.outcome,
      NEW.prescribed_mg, NEW.concentration, NEW.method, NEW.intoxication, NEW.breath_alcohol, NEW.decision,
      NEW.rule_set_version_id, NEW.given_by, NEW.at, NEW.voids_id, NEW.void_reason, NEW.request_id)
     IS DISTINCT FROM
     (OLD.id, OLD.patient_id, OLD.episode_id, OLD.order_id, OLD.clinic_id, OLD.service_day, OLD.part, OLD.outcome,
      OLD.prescribed_mg, OLD.concentration, OLD.method, OLD.intoxication, OLD.breath_alcohol, OLD.decision,
      OLD.rule_set_version_id, OLD.given_by, OLD.at, OLD.voids_id, OLD.void_reason, OLD.request_id) THEN
    RAISE EXCEPTION 'append-only table doses: only the status and the delivered volume may change' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER doses_guard BEFORE UPDATE OR DELETE ON doses
  FOR EACH ROW EXECUTE FUNCTION mp_dose_guard();
--> statement-breakpoint
CREATE TRIGGER doses_no_truncate BEFORE TRUNCATE ON doses
  FOR EACH STATEMENT EXECUTE FUNCTION mp_refuse_change();
