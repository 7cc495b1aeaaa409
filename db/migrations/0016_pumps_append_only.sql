-- What a pump did or was told is a record: never rewritten, never removed.
CREATE TRIGGER pump_events_append_only BEFORE UPDATE OR DELETE ON pump_events
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
CREATE TRIGGER pump_events_no_truncate BEFORE TRUNCATE ON pump_events
  FOR EACH STATEMENT EXECUTE FUNCTION mp_refuse_change();
