-- The audit chain moves out of the write path. Until now a BEFORE INSERT
-- trigger chained each audit row to the previous one under one advisory lock
-- held to commit, so every audited action of every clinic (each dose among
-- them) wrote its audit row and flushed its commit one at a time. Now an audit
-- row is only written (and queued in audit_unsealed, by a trigger, in the same
-- transaction); the sealer (mp_audit_seal below, run every second by each
-- server and before every verification) chains the queued rows in
-- audit_seals, one sealer at a time. The hash of a seal is the one the rows
-- carried before (mp_audit_hash, migration 0001), so the chain written so far
-- is carried over unchanged.
CREATE TABLE "audit_seals" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"audit_id" bigint NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	"sealed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_seals_audit_id_unique" UNIQUE("audit_id")
);
--> statement-breakpoint
CREATE TABLE "audit_unsealed" (
	"audit_id" bigint PRIMARY KEY NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_seals" ADD CONSTRAINT "audit_seals_audit_id_audit_log_id_fk" FOREIGN KEY ("audit_id") REFERENCES "public"."audit_log"("id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
-- The rows chained so far keep their place, links and hashes.
INSERT INTO audit_seals (seq, audit_id, prev_hash, hash, sealed_at)
  SELECT seq, id, prev_hash, hash, at FROM audit_log WHERE seq > 0 ORDER BY seq;
--> statement-breakpoint
DROP TRIGGER audit_log_chain ON audit_log;
--> statement-breakpoint
DROP FUNCTION mp_audit_chain();
--> statement-breakpoint
DROP INDEX "audit_log_seq_uq";
--> statement-breakpoint
ALTER TABLE "audit_log" DROP COLUMN "seq";
--> statement-breakpoint
ALTER TABLE "audit_log" DROP COLUMN "prev_hash";
--> statement-breakpoint
ALTER TABLE "audit_log" DROP COLUMN "hash";
--> statement-breakpoint
-- Every audit row is queued for sealing by the transaction that writes it.
CREATE OR REPLACE FUNCTION mp_audit_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_unsealed (audit_id) VALUES (NEW.id);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_queue AFTER INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION mp_audit_queue();
--> statement-breakpoint
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
  FOR EACH ROW EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
  FOR EACH STATEMENT EXECUTE FUNCTION mp_refuse_change();
--> statement-breakpoint
-- Seals up to max_rows queued audit rows, in the order they were written (id),
-- each chained to the seal before it, and returns how many it sealed. One
-- sealer at a time, whatever the number of server instances: with wait false
-- a sealer that finds another at work returns -1 at once (it will be sealed
-- by that one); with wait true it waits its turn. A queued row whose audit row
-- is gone is left in the queue, where verification finds it.
CREATE OR REPLACE FUNCTION mp_audit_seal(max_rows integer, wait boolean) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
  last_hash text;
  r record;
  sealed integer := 0;
  h text;
BEGIN
  IF wait THEN
    PERFORM pg_advisory_xact_lock(7340001);
  ELSIF NOT pg_try_advisory_xact_lock(7340001) THEN
    RETURN -1;
  END IF;
  SELECT seq, hash INTO last_seq, last_hash FROM audit_seals ORDER BY seq DESC LIMIT 1;
  last_seq := coalesce(last_seq, 0);
  last_hash := coalesce(last_hash, repeat('0', 64));
  FOR r IN
    SELECT a.* FROM audit_unsealed u JOIN audit_log a ON a.id = u.audit_id ORDER BY u.audit_id LIMIT max_rows
  LOOP
    last_seq := last_seq + 1;
    h := mp_audit_hash(last_seq, last_hash, r.at, r.actor_id, r.action, r.clinic_id, r.entity_type, r.entity_id, r.details, r.address);
    INSERT INTO audit_seals (seq, audit_id, prev_hash, hash) VALUES (last_seq, r.id, last_hash, h);
    DELETE FROM audit_unsealed WHERE audit_id = r.id;
    last_hash := h;
    sealed := sealed + 1;
  END LOOP;
  RETURN sealed;
END;
$$;
