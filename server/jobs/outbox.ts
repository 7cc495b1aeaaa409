// The delivery worker: messages written to the outbox with their alert are
// sent at least once, with back-off between failed attempts. A worker claims
// a batch (SKIP LOCKED, with its own claim id and an expiry should it die
// mid-way), renews the claim of each message just before sending it (a send
// is bounded well below the claim's length), then records the attempt and
// its answer in one transaction, only while the claim is still its own:
// a message whose receiver answered success is never sent again; one whose
// answer was lost (the process killed between sending and recording) is sent
// again after the claim expires, with the same delivery id for the receiver
// to recognise.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import type { AlertLevel, Locale, OutboxChannel } from '../../db/schema.ts';
import { rows } from '../../db/sql.ts';
import { addDays } from '../dosing/days.ts';
import { audit } from '../services/audit.ts';
import type { Actor, ServiceDeps } from '../services/context.ts';

/** Everything a channel may say about an alert, drawn at delivery time. */
export interface AlertMessage {
  deliveryId: string;
  alertId: string;
  attempt: number;
  level: AlertLevel;
  missedDays: number;
  /** The first missed day. */
  since: string;
  raisedDay: string;
  patient: { code: string; fullName: string; phone: string };
  clinic: { code: string; name: string };
  recipient: { userId: string; fullName: string; locale: Locale; email: string; webhookTo: string };
}

/** A channel's failure, with the receiver's answer for the delivery log (never message content). */
export class DeliveryError extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

export interface Channel {
  /** Sends one message; resolves with the receiver's answer, or throws (a DeliveryError says why). */
  send(m: AlertMessage): Promise<string>;
}
export type Channels = Partial<Record<OutboxChannel, Channel>>;

export interface OutboxPolicy {
  batch: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxAttempts: number;
  /** How long a claim holds before another worker may take the message (renewed before each send; keep it well above a send's timeout). */
  claimMs: number;
}

/** Wait before attempt n+1 after n failures: base × 2^(n−1), capped. */
export function backoffMs(failures: number, p: Pick<OutboxPolicy, 'retryBaseMs' | 'retryMaxMs'>): number {
  return Math.min(p.retryMaxMs, p.retryBaseMs * 2 ** Math.max(0, failures - 1));
}

/** For an outbox row `o`: its recipient is active, still has the channel on with an address, and still works at the alert's clinic (or the facility a satellite point hangs off). */
const RECIPIENT_OK = sql`(select u.active
      and case o.channel when 'email' then u.notify_email and u.email <> '' else u.notify_webhook and u.webhook_to <> '' end
      and exists (select 1 from user_clinics uc join alerts a on a.id = o.alert_id join clinics c on c.id = a.clinic_id
                  where uc.user_id = u.id and uc.clinic_id in (c.id, c.parent_id))
    from users u where u.id = o.user_id)`;

type Claimed = { id: string; alert_id: string; user_id: string; channel: OutboxChannel; attempts: number };

/**
 * Sends what is due. Returns the counts of this pass. A message is cancelled,
 * not sent, when its alert has closed (the patient came back: a counsellor
 * does not need to chase someone already at the counter), or when its
 * recipient may no longer receive it (account disabled, the channel turned
 * off, no longer working at the patient's clinic): patient data goes only to
 * whom it concerns now.
 */
export async function deliverDue({ db, clock }: ServiceDeps, channels: Channels, p: OutboxPolicy): Promise<{ delivered: number; retried: number; failed: number; cancelled: number }> {
  const now = clock.now();
  const token = randomUUID();
  const claimed = await rows<Claimed>(
    db,
    sql`update outbox o set claimed_until = ${new Date(now.getTime() + p.claimMs).toISOString()}::timestamptz, claimed_by = ${token}::uuid
        where o.id in (
          select id from outbox
          where status = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz
            and (claimed_until is null or claimed_until < ${now.toISOString()}::timestamptz)
          order by next_attempt_at, id
          limit ${p.batch}::int
          for update skip locked)
        returning o.id, o.alert_id, o.user_id, o.channel, o.attempts`,
  );
  const counts = { delivered: 0, retried: 0, failed: 0, cancelled: 0 };
  for (const m of claimed) {
    const channel = channels[m.channel];
    // The claim may have run out while earlier messages of the batch were sent: renew it, or leave the message to whoever holds it now.
    // Whether it may still go is read again now, not at the claim.
    const [renewed] = await rows<{ alert_open: boolean; recipient_ok: boolean }>(
      db,
      sql`update outbox o set claimed_until = ${new Date(clock.now().getTime() + p.claimMs).toISOString()}::timestamptz
          where o.id = ${m.id}::uuid and o.claimed_by = ${token}::uuid and o.status = 'pending'
          returning (select a.closed_at is null from alerts a where a.id = o.alert_id) as alert_open, ${RECIPIENT_OK} as recipient_ok`,
    );
    if (!renewed) continue;
    if (!renewed.alert_open || !renewed.recipient_ok) {
      const detail = !renewed.alert_open ? 'alert closed before delivery' : 'recipient no longer receives this';
      if (await record(db, m, token, clock.now(), { ok: false, detail, status: 'cancelled' }, p)) counts.cancelled++;
      continue;
    }
    let ok = false;
    let detail: string;
    if (!channel) detail = 'channel not configured';
    else {
      try {
        const message = await messageOf(db, m.id, m.attempts + 1);
        detail = await channel.send(message);
        ok = true;
      } catch (e) {
        detail = e instanceof DeliveryError ? e.detail : `${(e as Error)?.name ?? 'Error'}${(e as { code?: string })?.code ? ` ${(e as { code?: string }).code}` : ''}`;
      }
    }
    const failedForGood = !ok && m.attempts + 1 >= p.maxAttempts;
    if (!(await record(db, m, token, clock.now(), { ok, detail, status: ok ? 'delivered' : failedForGood ? 'failed' : 'pending' }, p))) continue;
    if (ok) counts.delivered++;
    else if (failedForGood) counts.failed++;
    else counts.retried++;
  }
  return counts;
}

/**
 * Records an attempt and the message's new state, if this worker still holds
 * its claim (else another worker took it over after the claim ran out, and
 * its record stands). The attempt is logged either way: it happened.
 */
async function record(db: Db, m: Claimed, token: string, at: Date, r: { ok: boolean; detail: string; status: 'pending' | 'delivered' | 'failed' | 'cancelled' }, p: OutboxPolicy): Promise<boolean> {
  const attempts = m.attempts + 1;
  const next = new Date(at.getTime() + (r.status === 'pending' ? backoffMs(attempts, p) : 0)).toISOString();
  const detail = r.detail.slice(0, 300);
  return db.transaction(async (tx) => {
    await tx.execute(sql`insert into outbox_attempts (outbox_id, at, ok, detail) values (${m.id}::uuid, ${at.toISOString()}::timestamptz, ${r.ok}::boolean, ${detail}::text)`);
    const updated = await rows(
      tx,
      sql`update outbox set attempts = ${attempts}::int, status = ${r.status}::text, next_attempt_at = ${next}::timestamptz, claimed_until = null, claimed_by = null,
            delivered_at = case when ${r.ok}::boolean then ${at.toISOString()}::timestamptz else delivered_at end,
            last_error = case when ${r.ok}::boolean then '' else ${detail}::text end
          where id = ${m.id}::uuid and claimed_by = ${token}::uuid
          returning id`,
    );
    return updated.length === 1;
  });
}

/** The message of one outbox row, from the alert, the patient and the recipient as they are now. */
export async function messageOf(db: Db, outboxId: string, attempt: number): Promise<AlertMessage> {
  const [r] = await rows<{
    alert_id: string;
    level: AlertLevel;
    missed_days: number;
    anchor_day: string;
    raised_day: string;
    code: string;
    full_name: string;
    phone: string;
    clinic_code: string;
    clinic_name: string;
    user_id: string;
    user_name: string;
    locale: Locale;
    email: string;
    webhook_to: string;
  }>(
    db,
    sql`select a.id as alert_id, a.level, a.missed_days, a.anchor_day::text as anchor_day, a.raised_day::text as raised_day,
               p.code, p.full_name, p.phone, c.code as clinic_code, c.name as clinic_name,
               u.id as user_id, u.full_name as user_name, u.locale, u.email, u.webhook_to
        from outbox o join alerts a on a.id = o.alert_id join patients p on p.id = a.patient_id
        join clinics c on c.id = a.clinic_id join users u on u.id = o.user_id
        where o.id = ${outboxId}::uuid`,
  );
  if (!r) throw new DeliveryError('message not found');
  return {
    deliveryId: outboxId,
    alertId: r.alert_id,
    attempt,
    level: r.level,
    missedDays: Number(r.missed_days),
    since: addDays(r.anchor_day, 1),
    raisedDay: r.raised_day,
    patient: { code: r.code, fullName: r.full_name, phone: r.phone },
    clinic: { code: r.clinic_code, name: r.clinic_name },
    recipient: { userId: r.user_id, fullName: r.user_name, locale: r.locale, email: r.email, webhookTo: r.webhook_to },
  };
}

/** One row of the admin's delivery log. */
export type DeliveryRow = {
    id: string;
    alert_id: string;
    level: AlertLevel;
    clinic_code: string;
    username: string;
    channel: OutboxChannel;
    status: string;
    attempts: number;
    next_attempt_at: string;
    delivered_at: string | null;
    last_error: string;
    created_at: string;
};

/** The admin's delivery log: messages with their state and last answer. No patient data. */
export async function deliveryLog(db: Db, o: { status?: string; limit?: number } = {}) {
  return rows<DeliveryRow>(
    db,
    sql`select o.id, o.alert_id, a.level, c.code as clinic_code, u.username, o.channel, o.status, o.attempts, o.next_attempt_at, o.delivered_at, o.last_error, o.created_at
        from outbox o join alerts a on a.id = o.alert_id join clinics c on c.id = a.clinic_id join users u on u.id = o.user_id
        ${o.status ? sql`where o.status = ${o.status}::text` : sql``}
        order by o.created_at desc, o.id limit ${o.limit ?? 200}::int`,
  );
}

/** Every attempt of one message, oldest first. */
export async function attemptsOf(db: Db, outboxId: string) {
  return rows<{ at: string; ok: boolean; detail: string }>(db, sql`select at, ok, detail from outbox_attempts where outbox_id = ${outboxId}::uuid order by at, id`);
}

/** The admin sends a failed message again: it becomes due now, its attempts kept in the log; audited. */
export async function retryFailed({ db, clock }: ServiceDeps, actor: Actor, outboxId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const r = await rows(
      tx,
      sql`update outbox set status = 'pending', attempts = 0, next_attempt_at = ${clock.now().toISOString()}::timestamptz, claimed_until = null, claimed_by = null
          where id = ${outboxId}::uuid and status = 'failed' returning id`,
    );
    if (r.length === 1) await audit(tx, { action: 'outbox_retry', actorId: actor.userId, entityType: 'outbox', entityId: outboxId, address: actor.address, at: clock.now() });
    return r.length === 1;
  });
}
