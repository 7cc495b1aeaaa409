-- A doctor's decision on a day's dose and the swallow check are records of
-- care: never rewritten, a correction is a new row.
CREATE TRIGGER dose_reviews_append_only BEFORE UPDATE OR DELETE ON dose_reviews
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
CREATE TRIGGER swallow_checks_append_only BEFORE UPDATE OR DELETE ON swallow_checks
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
