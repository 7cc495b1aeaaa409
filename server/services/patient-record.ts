// Everything the patient page shows, read in one place: identity, episodes,
// orders, guest authorisations, urine tests, the 90-day calendar and the
// record's audit trail.
import { and, desc, eq, gte, ne, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.ts';
import { auditLog, clinics, communes, doses, provinces, users } from '../../db/schema.ts';
import { addDays, daysBetween } from '../dosing/days.ts';
import { volumeFor } from '../dosing/volume.ts';
import { episodesOf, guestAuthorisationsOf } from './episodes.ts';
import { inForce, ordersOfPatient, urineTestsOf } from './orders.ts';
import { getPatientInScope, latestPhoto } from './patients.ts';
import { rulesForClinic } from './rule-sets.ts';

export type CalendarState = 'dosed' | 'missed' | 'take_home' | 'withheld' | 'due' | 'no_order' | 'not_in_treatment';

/**
 * The state of each of the last `days` days. Dose records come with the
 * counter; a past day in treatment with an order and no dose is missed, and
 * today without a dose yet is due, not missed.
 */
export function calendarStates(
  today: string,
  days: number,
  episodes: readonly { startDate: string; endDate: string | null }[],
  orders: readonly { startDate: string; endDate: string }[],
  doses: ReadonlyMap<string, 'dosed' | 'take_home' | 'withheld'> = new Map(),
): { day: string; state: CalendarState }[] {
  const out: { day: string; state: CalendarState }[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = addDays(today, -i);
    const inEpisode = episodes.some((e) => e.startDate <= day && (e.endDate === null || day <= e.endDate));
    const ordered = orders.some((o) => o.startDate <= day && day <= o.endDate);
    const state: CalendarState = doses.get(day) ?? (!inEpisode ? 'not_in_treatment' : !ordered ? 'no_order' : day === today ? 'due' : 'missed');
    out.push({ day, state });
  }
  return out;
}

/**
 * A day's state from its standing records (voids and voided rows left out):
 * taken at a counter (given, vomited) or supplied → dosed; a take-home →
 * take_home; only a withholding → withheld; refused or spilled alone → missed.
 */
export function dayStates(records: readonly { serviceDay: string; outcome: string; voidsId: string | null; voided: boolean }[]): Map<string, 'dosed' | 'take_home' | 'withheld'> {
  const rank = { withheld: 1, take_home: 2, dosed: 3 } as const;
  const out = new Map<string, 'dosed' | 'take_home' | 'withheld'>();
  for (const r of records) {
    if (r.voidsId || r.voided) continue;
    const state = r.outcome === 'given' || r.outcome === 'vomited' || r.outcome === 'supplied' ? 'dosed' : r.outcome === 'take_home' ? 'take_home' : r.outcome === 'withheld' ? 'withheld' : null;
    if (!state) continue;
    const had = out.get(r.serviceDay);
    if (!had || rank[state] > rank[had]) out.set(r.serviceDay, state);
  }
  return out;
}

export async function patientRecord(db: Db, id: string, scope: string[] | null, today: string) {
  const patient = await getPatientInScope(db, id, scope);
  const [clinic] = await db.select({ name: clinics.name, tz: clinics.timeZone }).from(clinics).where(eq(clinics.id, patient.homeClinicId));
  const [place] = patient.communeCode
    ? await db.select({ commune: communes.name, province: provinces.name }).from(communes).innerJoin(provinces, eq(provinces.code, communes.provinceCode)).where(eq(communes.code, patient.communeCode))
    : [];
  const [counsellor] = patient.counsellorId ? await db.select({ name: users.fullName }).from(users).where(eq(users.id, patient.counsellorId)) : [];
  const eps = await episodesOf(db, id);
  const clinicNames = new Map((await db.select({ id: clinics.id, name: clinics.name }).from(clinics)).map((c) => [c.id, c.name]));
  const orders = await ordersOfPatient(db, id);
  const confirmers = new Map((await db.select({ id: users.id, name: users.fullName }).from(users)).map((u) => [u.id, u.name]));
  const open = eps.find((e) => e.endDate === null) ?? null;
  const orderToday = open ? inForce(orders.filter((o) => o.episodeId === open.id), today) : null;
  const rules = await rulesForClinic(db, patient.homeClinicId, today);
  const concentration = rules.params.concentration_mg_per_ml;
  const audit = await db
    .select({ id: auditLog.id, at: auditLog.at, actor: users.username, action: auditLog.action, clinic: clinics.name, timeZone: clinics.timeZone, entityType: auditLog.entityType, entityId: auditLog.entityId })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorId))
    .leftJoin(clinics, eq(clinics.id, auditLog.clinicId))
    .where(or(eq(auditLog.entityId, id), sql`${auditLog.details}->>'patientId' = ${id}`))
    .orderBy(desc(auditLog.id))
    .limit(100);
  const voids = alias(doses, 'voids');
  const records = await db
    .select({
      id: doses.id,
      serviceDay: doses.serviceDay,
      at: doses.at,
      outcome: doses.outcome,
      part: doses.part,
      givenMg: doses.givenMg,
      ml: doses.ml,
      clinicCode: clinics.code,
      byName: users.fullName,
      voidsId: doses.voidsId,
      voidReason: doses.voidReason,
      voided: sql<boolean>`${voids.id} is not null`,
    })
    .from(doses)
    .innerJoin(clinics, eq(clinics.id, doses.clinicId))
    .innerJoin(users, eq(users.id, doses.givenBy))
    .leftJoin(voids, eq(voids.voidsId, doses.id))
    .where(and(eq(doses.patientId, id), gte(doses.serviceDay, addDays(today, -89)), ne(doses.status, 'failed')))
    .orderBy(desc(doses.serviceDay), desc(doses.at));
  return {
    patient,
    doses: records.slice(0, 30),
    clinicName: clinic?.name ?? '',
    timeZone: clinic?.tz ?? 'Asia/Ho_Chi_Minh',
    address: [patient.street, place?.commune, place?.province].filter(Boolean).join(', '),
    counsellorName: counsellor?.name ?? null,
    hasPhoto: (await latestPhoto(db, id)) !== null,
    age: Math.floor(daysBetween(patient.birthDate, today) / 365.25),
    episodes: eps.map((e) => ({ ...e, clinicName: clinicNames.get(e.clinicId) ?? '' })),
    open,
    orders: orders.map((o) => ({ ...o, confirmedByName: o.confirmedBy ? (confirmers.get(o.confirmedBy) ?? null) : null })),
    orderToday: orderToday ? { ...orderToday, ...volumeFor(orderToday.dailyMg, concentration, rules.params.measuring_resolution_ml), concentration } : null,
    guests: await guestAuthorisationsOf(db, id),
    urine: await urineTestsOf(db, [id]),
    calendar: calendarStates(today, 90, eps, orders, dayStates(records)),
    audit: audit.map(({ entityType, entityId, ...r }) => ({ ...r, entity: entityType ? `${entityType}:${(entityId ?? '').slice(0, 8)}` : null })),
    takeHomeEnabled: rules.params.take_home_enabled === 1,
    concentration,
  };
}
