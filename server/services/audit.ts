// The audit log. A row is written in the same transaction as the action it
// records (pass the transaction), so there is no action without its row. The
// database refuses to rewrite it, queues it for sealing, and the sealer chains
// it into audit_seals a moment later (migration 0022): writers never wait for
// one another, and a sealed row edited or deleted breaks the chain.
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

/** Rows one sealing transaction chains at most. */
const SEAL_BATCH = 5_000;

/**
 * Chains the audit rows written so far into the seals, batch by batch, and
 * returns how many it sealed. With `wait` false it leaves the work to another
 * sealer that is at it (another server instance) and returns null.
 */
export async function sealAudit(db: Db, { wait }: { wait: boolean }): Promise<number | null> {
  let total = 0;
  for (;;) {
    const [r] = await rows<{ sealed: number }>(db, sql`select mp_audit_seal(${SEAL_BATCH}::int, ${wait}::boolean) as sealed`);
    const sealed = Number(r?.sealed ?? 0);
    if (sealed < 0) return total > 0 ? total : null;
    total += sealed;
    if (sealed < SEAL_BATCH) return total;
  }
}

/** `brokenAt`: the id of the first audit row found edited, deleted or left out of the chain. */
export type ChainCheck = { ok: true; rows: number } | { ok: false; rows: number; brokenAt: number };

/**
 * Seals what is queued, then recomputes every seal's hash and link in the
 * database. A row edited or deleted behind the triggers' back (by a
 * superuser, or in the files), a seal removed, or a row neither sealed nor
 * queued breaks it.
 */
export async function verifyAuditChain(db: Db): Promise<ChainCheck> {
  await sealAudit(db, { wait: true });
  const result = await rows<{ n: number | string; broken: number | string | null }>(
    db,
    sql`
      with chain as (
        select s.seq, s.audit_id, s.hash, s.prev_hash, a.id is null as missing,
               lag(s.hash) over (order by s.seq) as expected_prev,
               lag(s.seq) over (order by s.seq) as prev_seq,
               mp_audit_hash(s.seq, s.prev_hash, a.at, a.actor_id, a.action, a.clinic_id, a.entity_type, a.entity_id, a.details, a.address) as recomputed
        from audit_seals s left join audit_log a on a.id = s.audit_id
      )
      select (select count(*) from audit_log) as n,
             coalesce(
               (select audit_id from chain
                 where missing
                    or hash <> recomputed
                    or prev_hash <> coalesce(expected_prev, repeat('0', 64))
                    or seq <> coalesce(prev_seq, 0) + 1
                 order by seq limit 1),
               -- Queued, its row gone; or a row neither sealed nor queued (written after the sealing above, it would be queued).
               (select min(u.audit_id) from audit_unsealed u where not exists (select 1 from audit_log a where a.id = u.audit_id)),
               (select min(a.id) from audit_log a
                 where not exists (select 1 from audit_seals s where s.audit_id = a.id)
                   and not exists (select 1 from audit_unsealed u where u.audit_id = a.id))
             ) as broken`,
  );
  const n = Number(result[0]?.n ?? 0);
  const broken = result[0]?.broken;
  return broken === null || broken === undefined ? { ok: true, rows: n } : { ok: false, rows: n, brokenAt: Number(broken) };
}
