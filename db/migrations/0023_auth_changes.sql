-- Servers keep live sessions in memory (server/auth/session-cache.ts) and drop
-- them when anything a session's check rests on changes: a session revoked or
-- removed, a user changed or removed (disabled, role, password, locale), a
-- user's clinics changed. Statement triggers, so one write is one
-- notification (PostgreSQL also folds equal notifications of a transaction
-- into one); delivered at commit to every server listening on mp_auth. A
-- session's touch (last_seen_at only) is not a change of this kind.
CREATE OR REPLACE FUNCTION mp_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mp_auth', TG_TABLE_NAME);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER sessions_auth_changed AFTER UPDATE OF revoked_at, expires_at, user_id, id_hash, csrf_token OR DELETE OR TRUNCATE ON sessions
  FOR EACH STATEMENT EXECUTE FUNCTION mp_auth_changed();
--> statement-breakpoint
CREATE TRIGGER users_auth_changed AFTER UPDATE OR DELETE OR TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION mp_auth_changed();
--> statement-breakpoint
CREATE TRIGGER user_clinics_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON user_clinics
  FOR EACH STATEMENT EXECUTE FUNCTION mp_auth_changed();
