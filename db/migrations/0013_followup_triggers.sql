-- Follow-up records that are never rewritten: a counsellor's contact, a
-- delivery attempt, a day's close.
CREATE TRIGGER contacts_append_only BEFORE UPDATE OR DELETE ON contacts
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
CREATE TRIGGER outbox_attempts_append_only BEFORE UPDATE OR DELETE ON outbox_attempts
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
CREATE TRIGGER day_closes_append_only BEFORE UPDATE OR DELETE ON day_closes
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
-- An alert is raised once and closed once: the only change allowed is setting
-- closed_at/closed_as/closed_by/closed_note on an open alert; never deleted.
CREATE OR REPLACE FUNCTION mp_alert_close_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'alerts are never deleted' USING ERRCODE = 'restrict_violation';
  END IF;
  IF OLD.closed_at IS NOT NULL
     OR (to_jsonb(NEW) - 'closed_at' - 'closed_as' - 'closed_by' - 'closed_note') IS DISTINCT FROM (to_jsonb(OLD) - 'closed_at' - 'closed_as' - 'closed_by' - 'closed_note') THEN
    RAISE EXCEPTION 'an alert only closes, once' USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER alerts_close_only BEFORE UPDATE OR DELETE ON alerts
  FOR EACH ROW EXECUTE FUNCTION mp_alert_close_only();
--> statement-breakpoint
-- A covered day (a dose slot claimed: a dose here or as a guest, a take-home,
-- a supply) means the patient came back: their open missed-day alerts close
-- at once, in the dose's own transaction (an R19 review stays for the doctor).
CREATE OR REPLACE FUNCTION mp_alerts_returned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE alerts SET closed_at = now(), closed_as = 'returned'
  WHERE patient_id = NEW.patient_id AND closed_at IS NULL AND level <> 'review';
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER dose_slots_close_alerts AFTER INSERT ON dose_slots
  FOR EACH ROW EXECUTE FUNCTION mp_alerts_returned();
--> statement-breakpoint
-- An episode that ends (any reason) takes its open alerts with it.
CREATE OR REPLACE FUNCTION mp_alerts_episode_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.end_date IS NOT NULL AND OLD.end_date IS NULL THEN
    UPDATE alerts SET closed_at = now(), closed_as = 'episode_ended'
    WHERE episode_id = NEW.id AND closed_at IS NULL;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER episodes_close_alerts AFTER UPDATE ON episodes
  FOR EACH ROW EXECUTE FUNCTION mp_alerts_episode_ended();
