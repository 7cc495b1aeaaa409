-- dose_day_totals follows doses (see db/schema.ts). A row is exact while it
-- exists: a dose written for its clinic and day deletes it. The lock key
-- (1836020, clinic) orders that delete against mp_dose_totals_settle: a dose
-- takes it shared (doses never wait for each other), the settle exclusive,
-- each before the statement that reads, so whichever comes second sees the
-- first's committed rows.
CREATE OR REPLACE FUNCTION mp_dose_totals_stale() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v record;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(1836020, hashtext(NEW.clinic_id::text));
  DELETE FROM dose_day_totals WHERE clinic_id = NEW.clinic_id AND service_day = NEW.service_day;
  -- A void row changes the day of the dose it voids.
  IF NEW.voids_id IS NOT NULL THEN
    SELECT clinic_id, service_day INTO v FROM doses WHERE id = NEW.voids_id;
    IF FOUND THEN
      PERFORM pg_advisory_xact_lock_shared(1836020, hashtext(v.clinic_id::text));
      DELETE FROM dose_day_totals WHERE clinic_id = v.clinic_id AND service_day = v.service_day;
    END IF;
  END IF;
  IF TG_OP = 'UPDATE' AND (OLD.clinic_id, OLD.service_day) IS DISTINCT FROM (NEW.clinic_id, NEW.service_day) THEN
    PERFORM pg_advisory_xact_lock_shared(1836020, hashtext(OLD.clinic_id::text));
    DELETE FROM dose_day_totals WHERE clinic_id = OLD.clinic_id AND service_day = OLD.service_day;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER doses_totals_stale AFTER INSERT OR UPDATE ON doses
  FOR EACH ROW EXECUTE FUNCTION mp_dose_totals_stale();
--> statement-breakpoint
-- The rows of one clinic's days from_day..to_day that have none, counted
-- from the standing dispensed doses (as reports.ts's standingDose). Returns
-- how many days were written.
CREATE OR REPLACE FUNCTION mp_dose_totals_settle(clinic uuid, from_day date, to_day date) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  n integer;
BEGIN
  PERFORM pg_advisory_xact_lock(1836020, hashtext(clinic::text));
  INSERT INTO dose_day_totals (clinic_id, service_day, doses, mg, patient_days)
  SELECT clinic, g.day, a.doses, a.mg, a.patient_days
  FROM (SELECT gs::date AS day FROM generate_series(from_day, to_day, interval '1 day') gs) g
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS doses, coalesce(sum(d.given_mg), 0) AS mg, (count(*) FILTER (WHERE d.part = 1))::int AS patient_days
    FROM doses d
    WHERE d.clinic_id = clinic AND d.service_day = g.day
      AND d.voids_id IS NULL AND d.given_mg > 0 AND NOT EXISTS (SELECT 1 FROM doses v WHERE v.voids_id = d.id)
  ) a
  WHERE NOT EXISTS (SELECT 1 FROM dose_day_totals t WHERE t.clinic_id = clinic AND t.service_day = g.day);
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END;
$$;
