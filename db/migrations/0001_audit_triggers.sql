-- Append-only records: the database itself refuses to rewrite them, whatever
-- the application does. A correction is a new row that references the old one.
CREATE OR REPLACE FUNCTION mp_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'append-only table %: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
-- The text a row's hash covers. Every field is rendered in a fixed format (UTC
-- instants, jsonb's canonical text) so the hash does not depend on the session.
CREATE OR REPLACE FUNCTION mp_audit_hash(
  p_seq bigint, p_prev text, p_at timestamptz, p_actor uuid, p_action text, p_clinic uuid,
  p_entity_type text, p_entity_id text, p_details jsonb, p_address text
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(concat_ws(E'\x1f',
    p_seq::text, p_prev,
    to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    coalesce(p_actor::text, ''), p_action, coalesce(p_clinic::text, ''),
    coalesce(p_entity_type, ''), coalesce(p_entity_id, ''), p_details::text, coalesce(p_address, '')
  ), 'UTF8')), 'hex')
$$;
--> statement-breakpoint
-- Chains each new audit row to the previous one. The advisory lock is held to
-- the end of the transaction, so concurrent writers (several server instances
-- included) take seq numbers in commit order and the chain has no gaps or forks.
CREATE OR REPLACE FUNCTION mp_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
  last_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(7340001);
  SELECT seq, hash INTO last_seq, last_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(last_seq, 0) + 1;
  NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
  NEW.hash := mp_audit_hash(NEW.seq, NEW.prev_hash, NEW.at, NEW.actor_id, NEW.action, NEW.clinic_id,
                            NEW.entity_type, NEW.entity_id, NEW.details, NEW.address);
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION mp_audit_chain();
--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION mp_refuse_change();
