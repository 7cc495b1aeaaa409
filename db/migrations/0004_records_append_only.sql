-- Records of care are never rewritten: orders, urine tests, rule set versions,
-- photos and guest authorisations are append-only (a change is a new row).
CREATE TRIGGER dose_orders_append_only BEFORE UPDATE OR DELETE ON dose_orders
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
CREATE TRIGGER urine_tests_append_only BEFORE UPDATE OR DELETE ON urine_tests
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
CREATE TRIGGER rule_set_versions_append_only BEFORE UPDATE OR DELETE ON rule_set_versions
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
CREATE TRIGGER patient_photos_append_only BEFORE UPDATE OR DELETE ON patient_photos
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
CREATE TRIGGER guest_authorisations_append_only BEFORE UPDATE OR DELETE ON guest_authorisations
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
-- An episode is written once and ended once: retention is computed from its
-- dates and reason, so nothing else about it may change afterwards.
CREATE OR REPLACE FUNCTION mp_episode_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'append-only table episodes: DELETE is not allowed' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF OLD.end_date IS NOT NULL THEN
    RAISE EXCEPTION 'append-only table episodes: an ended episode cannot change' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.id, NEW.patient_id, NEW.clinic_id, NEW.kind, NEW.start_date, NEW.referral_source, NEW.transferred_from_id, NEW.created_by, NEW.created_at)
     IS DISTINCT FROM
     (OLD.id, OLD.patient_id, OLD.clinic_id, OLD.kind, OLD.start_date, OLD.referral_source, OLD.transferred_from_id, OLD.created_by, OLD.created_at) THEN
    RAISE EXCEPTION 'append-only table episodes: only the end may be recorded' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER episodes_guard BEFORE UPDATE OR DELETE ON episodes
  FOR EACH ROW EXECUTE FUNCTION mp_episode_guard();
