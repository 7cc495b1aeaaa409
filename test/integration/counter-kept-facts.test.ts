// A card's facts kept for its confirmation (server/services/dispense.ts
// keepFacts): the confirmation writes on them only if nothing they rest on
// changed since the card, and must end exactly as a confirmation on facts
// read afresh would. Each case changes the world between the card and the
// confirmation for two identical patients: A's card was shown on this
// server (its facts kept), B's on another (nothing kept here). Both are then
// confirmed as the card asked, and must end the same: the same answer, the
// same records. R9 (one dose a day), R11 (missed days), R12 (a ruling), the
// order and the rule set in force, the clinic's service day.
import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { clinics, doseOrders, doseReviews, doses, doseSlots, episodes, patients } from '../../db/schema.ts';
import { fold } from '../../db/fold.ts';
import { FixedClock } from '../../server/clock.ts';
import type { ParameterKey } from '../../server/dosing/parameters.ts';
import { counterCard } from '../../server/services/counter.ts';
import { factsKept, recordDose, type RecordDoseResult } from '../../server/services/dispense.ts';
import { addRuleSetVersion, assignRuleSet, createRuleSet, listRuleSets, ruleSetOn } from '../../server/services/rule-sets.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';

/** 09:00 in Hải Phòng (UTC+7) on 23 November 2026. */
const MORNING = new Date('2026-11-23T02:00:00Z');
const DAY = 86_400_000;

type World = Awaited<ReturnType<typeof world>>;
interface Patient {
  id: string;
  episodeId: string;
  orderId: string;
}

async function world(db: Db) {
  const clock = new FixedClock(MORNING);
  const clinic = await makeClinic(db);
  const doctor = await makeUser(db, 'doctor', [clinic.id]);
  const nurse = await makeUser(db, 'nurse', [clinic.id]);
  const admin = await makeUser(db, 'admin', []);
  const deps = { db, clock };
  const actor = { userId: nurse.id, address: null };
  const today = () => new Date(clock.now().getTime() + 7 * 3_600_000).toISOString().slice(0, 10);

  /** In maintenance at 80 mg a day since 10 November, last dosed yesterday. */
  async function addPatient(): Promise<Patient> {
    const fullName = 'Vũ Văn Hải';
    const [p] = await db
      .insert(patients)
      .values({ code: `${clinic.code}-${randomUUID().slice(0, 8)}`, homeClinicId: clinic.id, fullName, searchName: fold(fullName), birthDate: '1979-03-03', sex: 'male' })
      .returning();
    const [ep] = await db.insert(episodes).values({ patientId: p!.id, clinicId: clinic.id, kind: 'first', startDate: '2026-10-01' }).returning();
    const [order] = await db
      .insert(doseOrders)
      .values({ patientId: p!.id, episodeId: ep!.id, phase: 'maintenance', startDate: '2026-11-10', endDate: '2026-12-09', dailyMg: 80, takeHomeDays: 0, prescribedBy: doctor.id, createdAt: new Date('2026-11-09T03:00:00Z') })
      .returning();
    await doseOn(p!.id, ep!.id, order!.id, new Date(clock.now().getTime() - DAY), '2026-11-22');
    return { id: p!.id, episodeId: ep!.id, orderId: order!.id };
  }

  /** A dose written as another server writes it (the version is bumped by the insert's trigger). */
  async function doseOn(patientId: string, episodeId: string, orderId: string, at: Date, day: string) {
    const [d] = await db
      .insert(doses)
      .values({ patientId, episodeId, orderId, clinicId: clinic.id, serviceDay: day, outcome: 'given', prescribedMg: 80, givenMg: 80, ml: 8, concentration: 10, givenBy: doctor.id, at })
      .returning();
    await db.insert(doseSlots).values({ patientId, serviceDay: day, part: 1, doseId: d!.id });
  }

  /** This clinic follows a rule set of its own with some parameters changed from today. */
  async function useRules(values: Partial<Record<ParameterKey, number>>) {
    const by = { userId: admin.id, address: null };
    const setId = await createRuleSet(deps, by, { fromRuleSetId: (await listRuleSets(db)).defaultSetId!, name: `Test ${randomUUID()}` }, today());
    const entries = { ...(await ruleSetOn(db, setId, today())).entries };
    for (const [k, v] of Object.entries(values) as [ParameterKey, number][]) entries[k] = { ...entries[k], value: v };
    await addRuleSetVersion(deps, by, { ruleSetId: setId, effectiveFrom: today(), approvedBy: 'Sở Y tế (test)', note: '', entries }, today());
    await assignRuleSet(deps, by, clinic.id, setId);
  }

  const card = (p: Patient) => counterCard(db, clock.now(), p.id, clinic.id, [clinic.id]);
  const confirm = (p: Patient, expected: { part: number; mg: number }) =>
    recordDose(deps, actor, { patientId: p.id, clinicId: clinic.id, outcome: 'given', intoxication: 'none', breathAlcohol: null, requestId: randomUUID(), expected }, [clinic.id]);
  return { db, clock, clinic, doctor, addPatient, doseOn, useRules, card, confirm, today };
}

/** What a confirmation came to, comparable between the two patients. */
async function outcome(p: Promise<RecordDoseResult>) {
  try {
    const r = await p;
    return { kind: r.kind, decision: r.decision.kind, mg: r.kind === 'recorded' ? Number(r.dose.givenMg) : null, day: r.kind === 'recorded' ? r.dose.serviceDay : null };
  } catch (e) {
    return { error: (e as Error).constructor.name, key: (e as { messageKey?: string }).messageKey ?? null };
  }
}

/** The standing records of a patient, as comparable rows. */
async function recordsOf(db: Db, patientId: string) {
  const rows = await db.select().from(doses).where(eq(doses.patientId, patientId)).orderBy(doses.serviceDay, doses.at);
  return rows.map((d) => ({ day: d.serviceDay, outcome: d.outcome, mg: Number(d.givenMg), ml: Number(d.ml), status: d.status }));
}

const changes: [string, (w: World, p: Patient) => Promise<unknown>][] = [
  ['nothing changed', async () => {}],
  ['another server dosed the patient (R9)', (w, p) => w.doseOn(p.id, p.episodeId, p.orderId, w.clock.now(), w.today())],
  [
    'a doctor wrote a new order',
    async (w, p) => {
      await w.db.update(doseOrders).set({ endDate: '2026-11-22' }).where(eq(doseOrders.id, p.orderId)).catch(() => {});
      await w.db.insert(doseOrders).values({ patientId: p.id, episodeId: p.episodeId, phase: 'maintenance', startDate: w.today(), endDate: '2026-12-20', dailyMg: 60, takeHomeDays: 0, prescribedBy: w.doctor.id });
    },
  ],
  ['a doctor ruled: no dose today (R12)', (w, p) => w.db.insert(doseReviews).values({ patientId: p.id, clinicId: w.clinic.id, serviceDay: w.today(), kind: 'no_dose', doctorId: w.doctor.id, note: 'test', at: w.clock.now() })],
  ['the episode ended', (w, p) => w.db.update(episodes).set({ endDate: w.today(), endReason: 'withdrew' }).where(eq(episodes.id, p.episodeId))],
  ['the clinic was closed', (w) => w.db.update(clinics).set({ active: false }).where(eq(clinics.id, w.clinic.id))],
  ['the clinic moved to a time zone where it is still yesterday', (w) => w.db.update(clinics).set({ timeZone: 'America/New_York' }).where(eq(clinics.id, w.clinic.id))],
  ['a new rule set version took effect (another concentration: other ml)', (w) => w.useRules({ concentration_mg_per_ml: 5 })],
  ['the service day turned (the card was shown yesterday)', async (w) => w.clock.advance(DAY)],
  ['three days passed (R11: missed days since the card)', async (w) => w.clock.advance(3 * DAY)],
];

describeEachDatabase('a confirmation on the card’s kept facts', (get) => {
  it.each(changes)('ends as one on facts read afresh: %s', async (_what, change) => {
    const w = await world(get().db);
    const a = await w.addPatient();
    const b = await w.addPatient();
    // A's card is shown here; B's elsewhere (the same decision: the patients are alike).
    const shown = await w.card(a);
    expect(shown.decision.kind).toBe('give');
    expect(factsKept(w.db, a.id, w.clinic.id)).toBe(true);
    expect(factsKept(w.db, b.id, w.clinic.id)).toBe(false);
    const expected = { part: shown.decision.kind === 'give' ? shown.decision.part : 1, mg: shown.decision.kind === 'give' ? shown.decision.mg : 0 };

    await change(w, a);
    await change(w, b);
    const onKept = await outcome(w.confirm(a, expected));
    expect(factsKept(w.db, a.id, w.clinic.id)).toBe(false);
    const onFresh = await outcome(w.confirm(b, expected));
    expect(onKept).toEqual(onFresh);
    expect(await recordsOf(w.db, a.id)).toEqual(await recordsOf(w.db, b.id));
  });

  it('a card that offers no dose keeps nothing', async () => {
    const w = await world(get().db);
    const p = await w.addPatient();
    await w.doseOn(p.id, p.episodeId, p.orderId, w.clock.now(), w.today());
    expect((await w.card(p)).decision.kind).toBe('already_dosed');
    expect(factsKept(w.db, p.id, w.clinic.id)).toBe(false);
  });

  it('a card’s facts are kept for 10 minutes: older ones go when the next card is kept', async () => {
    const w = await world(get().db);
    const a = await w.addPatient();
    const b = await w.addPatient();
    await w.card(a);
    w.clock.advance(10 * 60_000 + 1);
    await w.card(b);
    expect(factsKept(w.db, a.id, w.clinic.id)).toBe(false);
    expect(factsKept(w.db, b.id, w.clinic.id)).toBe(true);
  });

  it('kept facts are used once: a second confirmation of the same card reads afresh and finds the dose (R9)', async () => {
    const w = await world(get().db);
    const p = await w.addPatient();
    const shown = await w.card(p);
    const expected = { part: 1, mg: shown.decision.kind === 'give' ? shown.decision.mg : 0 };
    expect((await outcome(w.confirm(p, expected))).kind).toBe('recorded');
    expect(await outcome(w.confirm(p, expected))).toMatchObject({ kind: 'refused', decision: 'already_dosed' });
    const [slots] = await w.db.select({ n: sql<number>`count(*)::int` }).from(doseSlots).where(and(eq(doseSlots.patientId, p.id), eq(doseSlots.serviceDay, w.today())));
    expect(slots!.n).toBe(1);
  });
});
