// Attendance histories made through the real schema, for the day close and
// the follow-up list: a patient in an open episode, covered days (a dose and
// its slot), take-home days, guest doses, contacts with holds.
import { fold } from '../../db/fold.ts';
import type { Db } from '../../db/client.ts';
import { contacts, doses, doseSlots, episodes, patients, type ContactMethod, type ContactOutcome } from '../../db/schema.ts';

let seq = 0;

export interface TestPatient {
  id: string;
  code: string;
  episodeId: string;
  clinicId: string;
}

export async function addPatient(
  db: Db,
  o: { clinicId: string; clinicCode?: string; startDate: string; counsellorId?: string | null; fullName?: string; phone?: string },
): Promise<TestPatient> {
  const fullName = o.fullName ?? 'Nguyễn Văn An';
  const [p] = await db
    .insert(patients)
    .values({
      code: `${o.clinicCode ?? 'FU'}-${Date.now().toString(36).slice(-4)}${String(++seq).padStart(5, '0')}`,
      homeClinicId: o.clinicId,
      fullName,
      searchName: fold(fullName),
      birthDate: '1980-05-05',
      sex: 'male',
      phone: o.phone ?? '0912 345 678',
      counsellorId: o.counsellorId ?? null,
    })
    .returning();
  const [ep] = await db.insert(episodes).values({ patientId: p!.id, clinicId: o.clinicId, kind: 'first', startDate: o.startDate }).returning();
  return { id: p!.id, code: p!.code, episodeId: ep!.id, clinicId: o.clinicId };
}

/**
 * A covered day as the counter would record it: a dose row (given here or at
 * a guest clinic, or a take-home day) and the slot it claims.
 */
export async function cover(
  db: Db,
  p: TestPatient,
  day: string,
  o: { outcome?: 'given' | 'take_home' | 'vomited' | 'supplied'; clinicId?: string; givenBy: string },
): Promise<string> {
  const outcome = o.outcome ?? 'given';
  const [d] = await db
    .insert(doses)
    .values({
      patientId: p.id,
      episodeId: p.episodeId,
      clinicId: o.clinicId ?? p.clinicId,
      serviceDay: day,
      outcome,
      prescribedMg: 60,
      givenMg: outcome === 'take_home' || outcome === 'supplied' ? 60 : 60,
      ml: 6,
      concentration: 10,
      givenBy: o.givenBy,
      at: new Date(`${day}T02:00:00Z`),
    })
    .returning();
  await db.insert(doseSlots).values({ patientId: p.id, serviceDay: day, part: 1, doseId: d!.id });
  return d!.id;
}

/** A day the patient came but was not covered (withheld, refused): no slot. */
export async function uncoveredRecord(db: Db, p: TestPatient, day: string, o: { outcome: 'withheld' | 'refused'; givenBy: string }): Promise<void> {
  await db.insert(doses).values({
    patientId: p.id,
    episodeId: p.episodeId,
    clinicId: p.clinicId,
    serviceDay: day,
    outcome: o.outcome,
    prescribedMg: 60,
    givenMg: 0,
    ml: 0,
    concentration: 10,
    givenBy: o.givenBy,
    at: new Date(`${day}T02:00:00Z`),
  });
}

export async function logContactRow(
  db: Db,
  p: TestPatient,
  o: { by: string; at: Date; outcome: ContactOutcome; method?: ContactMethod; holdUntil?: string | null; returnDate?: string | null; nextActionDate?: string | null; note?: string },
): Promise<void> {
  await db.insert(contacts).values({
    patientId: p.id,
    episodeId: p.episodeId,
    clinicId: p.clinicId,
    method: o.method ?? 'phone',
    outcome: o.outcome,
    holdUntil: o.holdUntil ?? null,
    returnDate: o.returnDate ?? null,
    nextActionDate: o.nextActionDate ?? null,
    note: o.note ?? '',
    by: o.by,
    at: o.at,
  });
}
