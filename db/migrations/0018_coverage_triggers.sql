-- coverage_spans follows dose_slots (see db/schema.ts): a patient's covered
-- days in chains with no two consecutive covered days more than 30 apart
-- (R18). The constant 30 is retention.ts's DROPOUT_GAP.

-- The spans of the given patients (all patients when null) recomputed from
-- their slots: after a load that bypassed the triggers (a seed with
-- session_replication_role = replica), and by the triggers when a slot is
-- released (a void, a pump that delivered nothing).
CREATE OR REPLACE FUNCTION mp_coverage_rebuild(patient_ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM coverage_spans WHERE patient_ids IS NULL OR patient_id = ANY(patient_ids);
  INSERT INTO coverage_spans (patient_id, from_day, to_day)
  SELECT patient_id, min(day), max(day)
  FROM (
    SELECT patient_id, day,
      sum(CASE WHEN prev IS NULL OR day - prev > 30 THEN 1 ELSE 0 END) OVER (PARTITION BY patient_id ORDER BY day) AS chain
    FROM (
      SELECT patient_id, day, lag(day) OVER (PARTITION BY patient_id ORDER BY day) AS prev
      FROM (SELECT DISTINCT patient_id, service_day AS day FROM dose_slots
            WHERE patient_ids IS NULL OR patient_id = ANY(patient_ids)) covered
    ) stepped
  ) chained
  GROUP BY patient_id, chain;
END;
$$;
--> statement-breakpoint
-- A slot claimed: its day joins the chain it falls in or next to, merging
-- the chains it bridges. One patient's slots are claimed one transaction at a
-- time here (two counters dosing one patient on different days at once would
-- otherwise each merge without the other's chain).
CREATE OR REPLACE FUNCTION mp_coverage_add() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lo date;
  hi date;
BEGIN
  PERFORM pg_advisory_xact_lock(1836019, hashtext(NEW.patient_id::text));
  IF EXISTS (SELECT 1 FROM coverage_spans s WHERE s.patient_id = NEW.patient_id AND s.from_day <= NEW.service_day AND s.to_day >= NEW.service_day) THEN
    RETURN NULL;
  END IF;
  WITH gone AS (
    DELETE FROM coverage_spans s
    WHERE s.patient_id = NEW.patient_id AND s.to_day >= NEW.service_day - 30 AND s.from_day <= NEW.service_day + 30
    RETURNING s.from_day, s.to_day
  ) SELECT min(from_day), max(to_day) INTO lo, hi FROM gone;
  INSERT INTO coverage_spans (patient_id, from_day, to_day)
  VALUES (NEW.patient_id, least(lo, NEW.service_day), greatest(hi, NEW.service_day));
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- A slot released (or, never done by the application, moved): the patient's
-- chains are recomputed from what stands.
CREATE OR REPLACE FUNCTION mp_coverage_release() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(1836019, hashtext(OLD.patient_id::text));
  PERFORM mp_coverage_rebuild(ARRAY[OLD.patient_id]);
  IF TG_OP = 'UPDATE' AND NEW.patient_id <> OLD.patient_id THEN
    PERFORM pg_advisory_xact_lock(1836019, hashtext(NEW.patient_id::text));
    PERFORM mp_coverage_rebuild(ARRAY[NEW.patient_id]);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER dose_slots_coverage_add AFTER INSERT ON dose_slots
  FOR EACH ROW EXECUTE FUNCTION mp_coverage_add();
--> statement-breakpoint
CREATE TRIGGER dose_slots_coverage_release AFTER UPDATE OR DELETE ON dose_slots
  FOR EACH ROW EXECUTE FUNCTION mp_coverage_release();
--> statement-breakpoint
SELECT mp_coverage_rebuild(NULL);
