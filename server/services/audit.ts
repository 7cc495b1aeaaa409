// The audit log. A row is written in the same transaction as the action it
// records (pass the transaction), so there is no action without its row. The
// database chains the rows (seq, prev_hash, hash) and refuses to rewrite them.
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { auditLog } from '../../db/schema.ts';
import { rows } from '../../db/sql.ts';

export const AUDIT_ACTIONS = [
  'login',
  'login_failed',
  'login_throttled',
  'logout',
  'clinic_create',
  'clinic_update',
  'user_create',
  'user_update',
  'user_reset_password',
  'user_deactivate',
  'user_reactivate',
  'user_change_password',
  'user_set_locale',
  'demo_seed',
  'rule_set_change',
  'patient_create',
  'patient_update',
  'patient_view',
  'patient_photo',
  'patient_import',
  'episode_enrol',
  'episode_end',
  'episode_transfer',
  'guest_authorise',
  'order_prescribe',
  'urine_test_record',
  'dose_record',
  'dose_take_home',
  'dose_void',
  'dose_review',
  'dose_swallow_check',
  'check_in',
  'day_close',
  'contact_log',
  'dropout_confirm',
  'dropout_reject',
  'notify_settings',
  'outbox_retry',
  'termination_review',
  'dose_pump_outcome',
  'dose_pump_stop',
  'dose_pump_resolve',
  'pump_configure',
  'pump_confirm',
  'pump_calibrate',
  'pump_prime',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  action: AuditAction;
  actorId: string | null;
  clinicId?: string | null;
  entityType?: string;
  entityId?: string;
  /** Ids, field names and codes only: never a patient's name, notes or health data. */
  details?: Record<string, unknown>;
  address?: string | null;
  at: Date;
}

export async function audit(db: Db, e: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    action: e.action,
    actorId: e.actorId,
    clinicId: e.clinicId ?? null,
    entityType: e.entityType ?? null,
    entityId: e.entityId ?? null,
    details: e.details ?? {},
    address: e.address ?? null,
    at: e.at,
  });
}

export type ChainCheck = { ok: true; rows: number } | { ok: false; rows: number; brokenAtSeq: number };

/**
 * Recomputes every row's hash and link in the database. A row edited or
 * deleted behind the triggers' back (by a superuser, or in the files) breaks it.
 */
export async function verifyAuditChain(db: Db): Promise<ChainCheck> {
  const result = await rows<{ n: number | string; broken: number | string | null }>(
    db,
    sql`
      with chain as (
        select seq, hash, prev_hash,
               lag(hash) over (order by seq) as expected_prev,
               lag(seq) over (order by seq) as prev_seq,
               mp_audit_hash(seq, prev_hash, at, actor_id, action, clinic_id, entity_type, entity_id, details, address) as recomputed
        from audit_log
      )
      select (select count(*) from audit_log) as n,
             (select min(seq) from chain
               where hash <> recomputed
                  or prev_hash <> coalesce(expected_prev, repeat('0', 64))
                  or seq <> coalesce(prev_seq, 0) + 1) as broken`,
  );
  const n = Number(result[0]?.n ?? 0);
  const broken = result[0]?.broken;
  return broken === null || broken === undefined ? { ok: true, rows: n } : { ok: false, rows: n, brokenAtSeq: Number(broken) };
}
