// The daily register of a clinic: every record of the service day (doses,
// withholdings, refusals, voids) with times and staff, the totals, and the
// patients expected but not seen: the paper dispensing register's content.
import { and, asc, eq } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.ts';
import { doses, patients, users, type DOSE_RECORD_OUTCOMES, type INTOXICATION } from '../../db/schema.ts';
import { NotFound } from '../errors.ts';
import { clinicDay, expectedNotSeen } from './counter.ts';

export interface RegisterRow {
  id: string;
  at: Date;
  code: string;
  fullName: string;
  part: number;
  outcome: (typeof DOSE_RECORD_OUTCOMES)[number];
  prescribedMg: number;
  givenMg: number;
  ml: number;
  method: 'manual' | 'pump';
  intoxication: (typeof INTOXICATION)[number] | null;
  byName: string;
  /** This row voids another (its id), with the reason. */
  voidsId: string | null;
  voidReason: string | null;
  /** This row was voided later. */
  voidedBy: string | null;
}

export interface Register {
  clinic: { id: string; code: string; name: string; timeZone: string };
  day: string;
  today: string;
  rows: RegisterRow[];
  totals: { givenMg: number; ml: number; patients: number; byOutcome: Record<string, number> };
  notSeen: Awaited<ReturnType<typeof expectedNotSeen>>;
}

/** The register of a service day at a clinic; without a day, today's. */
export async function dayRegister(db: Db, now: Date, clinicId: string, dayAsked: string | null, scope: string[] | null): Promise<Register> {
  if (scope && !scope.includes(clinicId)) throw new NotFound('clinic');
  const c = await clinicDay(db, clinicId, now);
  const day = dayAsked ?? c.today;
  const voids = alias(doses, 'voids');
  const staff = alias(users, 'staff');
  const rows = await db
    .select({
      id: doses.id,
      at: doses.at,
      code: patients.code,
      fullName: patients.fullName,
      part: doses.part,
      outcome: doses.outcome,
      prescribedMg: doses.prescribedMg,
      givenMg: doses.givenMg,
      ml: doses.ml,
      method: doses.method,
      intoxication: doses.intoxication,
      byName: staff.fullName,
      voidsId: doses.voidsId,
      voidReason: doses.voidReason,
      voidedBy: voids.id,
    })
    .from(doses)
    .innerJoin(patients, eq(patients.id, doses.patientId))
    .innerJoin(staff, eq(staff.id, doses.givenBy))
    .leftJoin(voids, eq(voids.voidsId, doses.id))
    .where(and(eq(doses.clinicId, clinicId), eq(doses.serviceDay, day)))
    .orderBy(asc(doses.at), asc(doses.id));
  const standing = rows.filter((r) => !r.voidsId && !r.voidedBy);
  const byOutcome: Record<string, number> = {};
  for (const r of standing) byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + 1;
  const sum = (f: (r: RegisterRow) => number) => Math.round(standing.reduce((s, r) => s + f(r), 0) * 100) / 100;
  return {
    clinic: { id: clinicId, code: c.code, name: c.name, timeZone: c.timeZone },
    day,
    today: c.today,
    rows,
    totals: { givenMg: sum((r) => r.givenMg), ml: sum((r) => r.ml), patients: new Set(standing.filter((r) => r.givenMg > 0).map((r) => r.code)).size, byOutcome },
    notSeen: day <= c.today ? await expectedNotSeen(db, clinicId, day, 2000) : [],
  };
}
