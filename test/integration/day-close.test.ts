// The day close (issue 5) on the real schema: R11's count of missed days by
// tables of attendance histories, the R17/R18 alerts with their raised day,
// holds, take-homes (R14), supplies (R15), guest doses (R16), clinics in
// other time zones, a weekend with the server off, runs twice, the manager's
// run, satellites, who is told, the outbox, the closing of alerts (returned,
// episode ended, the manager's ruling), re-enrolment, and several instances.
import { randomUUID } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { openDatabase, type Db } from '../../db/client.ts';
import { alerts, clinics, dayCloses, episodes, inbox, outbox, users, type AlertLevel } from '../../db/schema.ts';
import { FixedClock } from '../../server/clock.ts';
import { addDays, daysBetween } from '../../server/dosing/days.ts';
import type { ParameterKey } from '../../server/dosing/parameters.ts';
import { closeDay, closeDueDays, type ChannelsOn } from '../../server/services/day-close.ts';
import { endEpisode, enrol } from '../../server/services/episodes.ts';
import { dropoutProposals, inboxOf, missedList, ruleOnDropout, unreadCount } from '../../server/services/follow-up.ts';
import { addRuleSetVersion, assignRuleSet, createRuleSet, listRuleSets, ruleSetOn } from '../../server/services/rule-sets.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';
import { addPatient, cover, logContactRow, uncoveredRecord, type TestPatient } from '../helpers/follow-up.ts';

/** Day 0 of every history: Monday 2 March 2026 (so day 4 is a Friday). */
const BASE = '2026-03-02';
const day = (n: number) => addDays(BASE, n);
const offset = (d: string) => daysBetween(BASE, d);
/** 18:00 in Hồ Chí Minh City on day n: after the default closing time (17:00). */
const evening = (n: number) => new Date(`${day(n)}T11:00:00Z`);
const ALL: ChannelsOn = { email: true, webhook: true };
const NONE: ChannelsOn = { email: false, webhook: false };

/** History letters: a covered day (here, take-home, supply, vomited, guest elsewhere), a record without a slot, or nothing. */
const COVERING = { C: 'given', T: 'take_home', S: 'supplied', V: 'vomited', G: 'given' } as const;
type Expected = Partial<Record<AlertLevel, [raisedOn: number, missedDays: number]>>;
interface Case {
  name: string;
  history: string;
  hold?: { at: number; until: number; outcome: 'hospital' | 'custody' };
  rules?: Partial<Record<ParameterKey, number>>;
  missed: number;
  open: Expected;
  returned?: number;
}

const CASES: Case[] = [
  { name: 'R11 R17 came every day: nothing missed, no alert', history: 'CCCCC', missed: 0, open: {} },
  { name: 'R11 R17 one missed day: on the list', history: 'CC.', missed: 1, open: { missed: [2, 1] } },
  { name: 'R11 R17 three missed days: counsellor alert on day 3', history: 'C...', missed: 3, open: { missed: [1, 1], counsellor: [3, 3] } },
  { name: 'R11 R17 five missed days: doctor alert on day 5', history: 'C.....', missed: 5, open: { missed: [1, 1], counsellor: [3, 3], doctor: [5, 5] } },
  { name: 'R11 R17 never came since the episode began: counted from its start', history: '...', missed: 3, open: { missed: [0, 1], counsellor: [2, 3] } },
  { name: 'R11 R14 take-home days are covered', history: 'CTTTC', missed: 0, open: {} },
  { name: 'R11 R14 missed days count from the last take-home day', history: 'CTT..', missed: 2, open: { missed: [3, 1] } },
  { name: 'R11 R16 guest doses at another clinic are covered', history: 'CGGG', missed: 0, open: {} },
  { name: 'R11 R16 missed days count from the last guest dose', history: 'GG...', missed: 3, open: { missed: [2, 1], counsellor: [4, 3] } },
  { name: 'R11 R15 supplies to a representative are covered', history: 'CSSS', missed: 0, open: {} },
  { name: 'R11 a vomited dose still covers the day', history: 'C.V', missed: 0, open: {}, returned: 1 },
  { name: 'R10 R11 withheld and refused are not covered', history: 'CWR.', missed: 3, open: { missed: [1, 1], counsellor: [3, 3] } },
  { name: 'R11 R17 came back: the alerts close as returned', history: 'C....C', missed: 0, open: {}, returned: 2 },
  { name: 'R11 R17 a new run after coming back counts from the return', history: 'C...C..', missed: 2, open: { missed: [5, 1] }, returned: 2 },
  { name: 'R18 29 missed days: not yet a dropout', history: `C${'.'.repeat(29)}`, missed: 29, open: { missed: [1, 1], counsellor: [3, 3], doctor: [5, 5] } },
  { name: 'R18 30 missed days: dropout proposed', history: `C${'.'.repeat(30)}`, missed: 30, open: { missed: [1, 1], counsellor: [3, 3], doctor: [5, 5], dropout: [30, 30] } },
  { name: 'R11 R17 hospital hold: escalation pauses, the count runs on, the levels come after it', history: 'C.......', hold: { at: 2, until: 6, outcome: 'hospital' }, missed: 7, open: { missed: [1, 1], counsellor: [7, 7], doctor: [7, 7] } },
  { name: 'R11 R17 custody hold from the first missed day: nothing raised while held', history: 'C........', hold: { at: 1, until: 20, outcome: 'custody' }, missed: 8, open: {} },
  { name: 'R11 R17 a hold includes its last day', history: 'C....', hold: { at: 1, until: 4, outcome: 'hospital' }, missed: 4, open: {} },
  { name: 'R11 R15 in hospital but supplied through a representative: covered', history: 'C..SS', hold: { at: 2, until: 10, outcome: 'hospital' }, missed: 0, open: {}, returned: 1 },
  { name: 'R17 R18 the clinic rule set decides: counsellor at 2, doctor at 4, dropout at 7', history: 'C.......', rules: { alert_counsellor_days: 2, alert_doctor_days: 4, dropout_days: 7 }, missed: 7, open: { missed: [1, 1], counsellor: [2, 2], doctor: [4, 4], dropout: [7, 7] } },
];

async function useRules(db: Db, clinicId: string, values: Partial<Record<ParameterKey, number>>) {
  const admin = await makeUser(db, 'admin', []);
  const actor = { userId: admin.id, address: null };
  const today = day(-10);
  const deps = { db, clock: new FixedClock(new Date(`${today}T03:00:00Z`)) };
  const setId = await createRuleSet(deps, actor, { fromRuleSetId: (await listRuleSets(db)).defaultSetId!, name: `Test ${randomUUID()}` }, today);
  const entries = { ...(await ruleSetOn(db, setId, today)).entries };
  for (const [k, v] of Object.entries(values) as [ParameterKey, number][]) entries[k] = { ...entries[k], value: v };
  await addRuleSetVersion(deps, actor, { ruleSetId: setId, effectiveFrom: today, approvedBy: 'Sở Y tế (test)', note: '', entries }, today);
  await assignRuleSet(deps, actor, clinicId, setId);
}

const alertsOf = (db: Db, patientId: string) => db.select().from(alerts).where(eq(alerts.patientId, patientId)).orderBy(alerts.raisedDay, alerts.level);
async function openOf(db: Db, patientId: string): Promise<Expected> {
  const open = (await alertsOf(db, patientId)).filter((a) => a.closedAt === null);
  return Object.fromEntries(open.map((a) => [a.level, [offset(a.raisedDay), a.missedDays]]));
}
/** Each user's in-app messages as "patient code:level", sorted. */
async function told(db: Db, userId: string): Promise<string[]> {
  return (await inboxOf(db, userId)).map((m) => `${m.code}:${m.level}`).sort();
}
const count = async (db: Db, table: typeof alerts | typeof inbox | typeof outbox | typeof dayCloses) => (await db.select().from(table)).length;

describeEachDatabase('day close', (get) => {
  async function staffed(o: { timeZone?: string } = {}) {
    const { db } = get();
    const clinic = await makeClinic(db, o);
    const nurse = await makeUser(db, 'nurse', [clinic.id]);
    const counsellor = await makeUser(db, 'counsellor', [clinic.id]);
    const manager = await makeUser(db, 'manager', [clinic.id]);
    const patient = (start = 0, counsellorId: string | null = counsellor.id) => addPatient(db, { clinicId: clinic.id, startDate: day(start), counsellorId });
    const covered = (p: TestPatient, ...days: number[]) => Promise.all(days.map((n) => cover(db, p, day(n), { givenBy: nurse.id })));
    return { db, clinic, nurse, counsellor, manager, patient, covered };
  }

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { db, clinic, nurse, counsellor, patient } = await staffed();
    const host = c.history.includes('G') ? await makeClinic(db) : null;
    if (c.rules) await useRules(db, clinic.id, c.rules);
    const p = await patient();
    const clock = new FixedClock(evening(0));
    for (let i = 0; i < c.history.length; i++) {
      clock.set(evening(i));
      const ch = c.history[i]!;
      if (ch in COVERING) await cover(db, p, day(i), { outcome: COVERING[ch as keyof typeof COVERING], givenBy: nurse.id, clinicId: ch === 'G' ? host!.id : clinic.id });
      if (ch === 'W' || ch === 'R') await uncoveredRecord(db, p, day(i), { outcome: ch === 'W' ? 'withheld' : 'refused', givenBy: nurse.id });
      if (c.hold?.at === i) await logContactRow(db, p, { by: counsellor.id, at: new Date(`${day(i)}T03:00:00Z`), outcome: c.hold.outcome, holdUntil: day(c.hold.until) });
      expect(await closeDay({ db, clock }, clinic.id, day(i), null, NONE)).toMatchObject({ serviceDay: day(i), patients: 1 });
    }
    const listed = (await missedList(db, clock.now(), [clinic.id])).find((r) => r.patientId === p.id);
    expect(listed?.missed ?? 0).toBe(c.missed);
    expect(await openOf(db, p.id)).toEqual(c.open);
    expect((await alertsOf(db, p.id)).filter((a) => a.closedAs === 'returned').length).toBe(c.returned ?? 0);
    expect((await db.select().from(dayCloses).where(eq(dayCloses.clinicId, clinic.id))).length).toBe(c.history.length);
  });

  it('R11 each clinic closes its own service day after its own closing time (Hồ Chí Minh City, Bangkok at 20:30, London)', async () => {
    const { db } = get();
    const hcm = await makeClinic(db);
    const bkk = await makeClinic(db, { timeZone: 'Asia/Bangkok' });
    const lon = await makeClinic(db, { timeZone: 'Europe/London' });
    await db.update(clinics).set({ closingTime: '20:30' }).where(eq(clinics.id, bkk.id));
    const nurse = await makeUser(db, 'nurse', [hcm.id, bkk.id, lon.id]);
    const name = new Map([[hcm.id, 'hcm'], [bkk.id, 'bkk'], [lon.id, 'lon']]);
    const ids = [...name.keys()];
    const patients = await Promise.all(ids.map((id) => addPatient(db, { clinicId: id, startDate: day(0) })));
    for (const p of patients) await cover(db, p, day(9), { givenBy: nurse.id });
    for (const id of ids) await closeDay({ db, clock: new FixedClock(evening(9)) }, id, day(9), null, NONE);
    const D = day(10);
    const at = async (iso: string) =>
      (await closeDueDays({ db, clock: new FixedClock(new Date(iso)) }, NONE, { clinicIds: ids })).map((r) => `${name.get(r.clinicId)} ${r.serviceDay}`).sort();
    expect(await at(`${D}T09:59:00Z`)).toEqual([]); // 16:59 in Hồ Chí Minh City and Bangkok, 09:59 in London
    expect(await at(`${D}T10:00:00Z`)).toEqual([`hcm ${D}`]);
    expect(await at(`${D}T13:29:00Z`)).toEqual([]); // 20:29 in Bangkok
    expect(await at(`${D}T13:30:00Z`)).toEqual([`bkk ${D}`]);
    expect(await at(`${D}T16:59:00Z`)).toEqual([]);
    expect(await at(`${D}T17:00:00Z`)).toEqual([`lon ${D}`]);
    // 20:00 UTC is already the next morning in Asia: its day is not over there.
    expect(await at(`${D}T20:00:00Z`)).toEqual([]);
    expect(await at(`${day(11)}T10:00:00Z`)).toEqual([`hcm ${day(11)}`]);
    for (const p of patients) {
      const [a] = await alertsOf(db, p.id);
      expect(a).toMatchObject({ level: 'missed', raisedDay: D, anchorDay: day(9), missedDays: 1, closedAt: null });
    }
  });

  it('R11 R14 R16 a weekend with the server off: Monday catches up Saturday, Sunday and Monday, each alert on its own day', async () => {
    const { db, clinic, nurse, patient, covered } = await staffed();
    const host = await makeClinic(db);
    const [a, b, c, g] = [await patient(), await patient(), await patient(), await patient()];
    await covered(a, 3, 4);
    await covered(b, 4);
    await covered(c, 3);
    await covered(g, 4);
    // Friday: b takes Saturday and Sunday home.
    for (const n of [5, 6]) await cover(db, b, day(n), { outcome: 'take_home', givenBy: nurse.id });
    const fri = await closeDueDays({ db, clock: new FixedClock(new Date(`${day(4)}T10:30:00Z`)) }, NONE, { clinicIds: [clinic.id] });
    expect(fri).toMatchObject([{ clinicId: clinic.id, serviceDay: day(4), patients: 4, raised: { missed: 1, counsellor: 0, doctor: 0, dropout: 0 }, closed: 0 }]);
    // The close does not run over the weekend; the counter does: g as a guest on Saturday, c back on Sunday.
    await cover(db, g, day(5), { givenBy: nurse.id, clinicId: host.id });
    await cover(db, c, day(6), { givenBy: nurse.id });
    const mon = await closeDueDays({ db, clock: new FixedClock(new Date(`${day(7)}T10:30:00Z`)) }, NONE, { clinicIds: [clinic.id] });
    expect(mon.map((r) => [r.serviceDay, r.patients])).toEqual([[day(5), 4], [day(6), 4], [day(7), 4]]);
    expect(mon[2]!.raised).toMatchObject({ missed: 2, counsellor: 1, doctor: 0, dropout: 0 });
    expect(await openOf(db, a.id)).toEqual({ missed: [5, 1], counsellor: [7, 3] });
    expect(await openOf(db, b.id)).toEqual({ missed: [7, 1] });
    expect(await openOf(db, c.id)).toEqual({ missed: [7, 1] });
    expect(await openOf(db, g.id)).toEqual({ missed: [6, 1] });
    expect((await alertsOf(db, c.id)).filter((x) => x.anchorDay === day(3)).map((x) => x.closedAs)).not.toContain(null);
    const closes = await db.select().from(dayCloses).where(eq(dayCloses.clinicId, clinic.id)).orderBy(dayCloses.serviceDay);
    expect(closes.map((x) => [x.serviceDay, x.runBy])).toEqual([4, 5, 6, 7].map((n) => [day(n), null]));
  });

  it('R17 run twice: the second run returns nothing and changes nothing', async () => {
    const { db, clinic, counsellor, manager, patient, covered } = await staffed();
    await db.update(users).set({ email: 'tv@example.vn', notifyEmail: true }).where(eq(users.id, counsellor.id));
    const [p, q] = [await patient(), await patient(0, null)];
    await covered(p, 0);
    const deps = { db, clock: new FixedClock(evening(30)) };
    const first = await closeDay(deps, clinic.id, day(30), null, ALL);
    expect(first).toMatchObject({ patients: 2, raised: { missed: 2, counsellor: 2, doctor: 2, dropout: 2 } });
    const before = await Promise.all([alerts, inbox, outbox, dayCloses].map((t) => count(db, t)));
    expect(await closeDay(deps, clinic.id, day(30), manager.id, ALL)).toBeNull();
    expect(await closeDueDays(deps, ALL, { clinicIds: [clinic.id] })).toEqual([]);
    expect(await closeDueDays(deps, ALL, { clinicIds: [clinic.id], runBy: manager.id, throughToday: true })).toEqual([]);
    expect(await Promise.all([alerts, inbox, outbox, dayCloses].map((t) => count(db, t)))).toEqual(before);
    expect(await told(db, manager.id)).toEqual([`${p.code}:dropout`, `${q.code}:dropout`].sort());
  });

  it("R17 the manager's run: closes today before the closing time, recorded with the manager; the scheduler then finds nothing", async () => {
    const { db, clinic, manager, patient, covered } = await staffed();
    const p = await patient();
    await covered(p, 0);
    const morning = { db, clock: new FixedClock(new Date(`${day(2)}T02:00:00Z`)) }; // 09:00
    expect((await closeDueDays(morning, NONE, { clinicIds: [clinic.id] })).map((r) => r.serviceDay)).toEqual([day(1)]);
    expect((await closeDueDays(morning, NONE, { clinicIds: [clinic.id], runBy: manager.id, throughToday: true })).map((r) => r.serviceDay)).toEqual([day(2)]);
    expect(await closeDueDays({ db, clock: new FixedClock(evening(2)) }, NONE, { clinicIds: [clinic.id] })).toEqual([]);
    expect((await closeDueDays({ db, clock: new FixedClock(evening(3)) }, NONE, { clinicIds: [clinic.id] })).map((r) => r.serviceDay)).toEqual([day(3)]);
    const closes = await db.select().from(dayCloses).where(eq(dayCloses.clinicId, clinic.id)).orderBy(dayCloses.serviceDay);
    expect(closes.map((x) => [x.serviceDay, x.runBy])).toEqual([[day(1), null], [day(2), manager.id], [day(3), null]]);
    expect(await openOf(db, p.id)).toEqual({ missed: [1, 1], counsellor: [3, 3] });
  });

  it('R17 R18 a satellite point: the staff of its facility are told, not those of a sibling point', async () => {
    const { db } = get();
    const facility = await makeClinic(db);
    const point = await makeClinic(db, { kind: 'satellite', parentId: facility.id });
    const sibling = await makeClinic(db, { kind: 'satellite', parentId: facility.id });
    const [couns, doctor, manager] = [await makeUser(db, 'counsellor', [facility.id]), await makeUser(db, 'doctor', [facility.id]), await makeUser(db, 'manager', [facility.id])];
    const [siblingCouns, nurse] = [await makeUser(db, 'counsellor', [sibling.id]), await makeUser(db, 'nurse', [point.id])];
    const p = await addPatient(db, { clinicId: point.id, startDate: day(0) });
    await cover(db, p, day(0), { givenBy: nurse.id });
    await closeDay({ db, clock: new FixedClock(evening(30)) }, point.id, day(30), null, NONE);
    expect(await told(db, couns.id)).toEqual([`${p.code}:counsellor`, `${p.code}:doctor`, `${p.code}:dropout`]);
    expect(await told(db, doctor.id)).toEqual([`${p.code}:doctor`]);
    expect(await told(db, manager.id)).toEqual([`${p.code}:dropout`]);
    expect(await told(db, siblingCouns.id)).toEqual([]);
  });

  it('R17 R18 who is told at each level: the assigned counsellor, else every active counsellor; the doctor at 5; the manager at 30', async () => {
    const { db, clinic, counsellor: a, manager, nurse, patient, covered } = await staffed();
    const other = await makeClinic(db);
    const [b, doctor] = [await makeUser(db, 'counsellor', [clinic.id]), await makeUser(db, 'doctor', [clinic.id])];
    const [gone, goneDoctor] = [await makeUser(db, 'counsellor', [clinic.id], { active: false }), await makeUser(db, 'doctor', [clinic.id], { active: false })];
    const [otherCouns, otherManager] = [await makeUser(db, 'counsellor', [other.id]), await makeUser(db, 'manager', [other.id])];
    const [p, q, r] = [await patient(0, a.id), await patient(0, null), await patient(0, gone.id)];
    for (const x of [p, q, r]) await covered(x, 0);
    const levels = (ls: AlertLevel[], ...ps: TestPatient[]) => ps.flatMap((x) => ls.map((l) => `${x.code}:${l}`)).sort();
    const close = (n: number) => closeDay({ db, clock: new FixedClock(evening(n)) }, clinic.id, day(n), null, NONE);
    await close(3);
    expect(await told(db, a.id)).toEqual(levels(['counsellor'], p, q, r));
    expect(await told(db, b.id)).toEqual(levels(['counsellor'], q, r));
    expect(await told(db, doctor.id)).toEqual([]);
    expect(await told(db, manager.id)).toEqual([]);
    await close(5);
    expect(await told(db, a.id)).toEqual(levels(['counsellor', 'doctor'], p, q, r));
    expect(await told(db, b.id)).toEqual(levels(['counsellor', 'doctor'], q, r));
    expect(await told(db, doctor.id)).toEqual(levels(['doctor'], p, q, r));
    expect(await told(db, manager.id)).toEqual([]);
    await close(30);
    expect(await told(db, a.id)).toEqual(levels(['counsellor', 'doctor', 'dropout'], p, q, r));
    expect(await told(db, b.id)).toEqual(levels(['counsellor', 'doctor', 'dropout'], q, r));
    expect(await told(db, doctor.id)).toEqual(levels(['doctor'], p, q, r));
    expect(await told(db, manager.id)).toEqual(levels(['dropout'], p, q, r));
    expect(await unreadCount(db, manager.id)).toBe(3);
    for (const u of [gone, goneDoctor, otherCouns, otherManager, nurse]) expect(await told(db, u.id)).toEqual([]);
  });

  it('R17 outbox rows only for the channels on and the people who asked for them, with an address', async () => {
    const { db, clinic, counsellor: a, patient, covered } = await staffed();
    const [b, c] = [await makeUser(db, 'counsellor', [clinic.id]), await makeUser(db, 'counsellor', [clinic.id])];
    const [doctor, doctor2] = [await makeUser(db, 'doctor', [clinic.id]), await makeUser(db, 'doctor', [clinic.id])];
    await db.update(users).set({ email: 'a@example.vn', notifyEmail: true }).where(eq(users.id, a.id));
    await db.update(users).set({ email: '', notifyEmail: true }).where(eq(users.id, b.id));
    await db.update(users).set({ email: 'c@example.vn', notifyEmail: false }).where(eq(users.id, c.id));
    await db.update(users).set({ webhookTo: '+84912345678', notifyWebhook: true, email: 'd@example.vn', notifyEmail: true }).where(eq(users.id, doctor.id));
    await db.update(users).set({ webhookTo: '', notifyWebhook: true }).where(eq(users.id, doctor2.id));
    // Each reaches 5 missed days at its own close: p on day 5, q on day 10, r on day 15.
    const [p, q, r] = [await patient(0, null), await patient(5, null), await patient(10, null)];
    await covered(p, 0);
    await covered(q, 5);
    await covered(r, 10);
    const close = (n: number, ch: ChannelsOn) => closeDay({ db, clock: new FixedClock(evening(n)) }, clinic.id, day(n), null, ch);
    const rows = async (x: TestPatient) => {
      const ids = (await alertsOf(db, x.id)).map((al) => al.id);
      const out = await db.select().from(outbox).innerJoin(alerts, eq(alerts.id, outbox.alertId)).where(inArray(outbox.alertId, ids));
      const who = new Map([[a.id, 'a'], [b.id, 'b'], [c.id, 'c'], [doctor.id, 'doctor'], [doctor2.id, 'doctor2']]);
      return out.map((o) => `${o.alerts.level}>${who.get(o.outbox.userId)}:${o.outbox.channel}:${o.outbox.status}`).sort();
    };
    await close(5, { email: true, webhook: false });
    expect(await rows(p)).toEqual(['counsellor>a:email:pending', 'doctor>a:email:pending', 'doctor>doctor:email:pending']);
    await close(10, ALL);
    expect(await rows(q)).toEqual(['counsellor>a:email:pending', 'doctor>a:email:pending', 'doctor>doctor:email:pending', 'doctor>doctor:webhook:pending']);
    await close(15, NONE);
    expect(await rows(r)).toEqual([]);
    expect(await openOf(db, r.id)).toEqual({ missed: [15, 5], counsellor: [15, 5], doctor: [15, 5] });
    expect((await inboxOf(db, b.id)).length).toBe(6); // in the app, everyone is told
  });

  it('R17 a covered day closes the open alerts as returned at once; an ended episode closes them as episode_ended', async () => {
    const { db, clinic, counsellor, manager, nurse, patient, covered } = await staffed();
    const [p, q] = [await patient(), await patient()];
    await covered(p, 0);
    await covered(q, 0);
    const clock = new FixedClock(evening(5));
    await closeDay({ db, clock }, clinic.id, day(5), null, NONE);
    expect(await unreadCount(db, counsellor.id)).toBe(4);
    await cover(db, p, day(6), { outcome: 'take_home', givenBy: nurse.id });
    expect((await alertsOf(db, p.id)).map((x) => [x.level, x.closedAs])).toEqual([['counsellor', 'returned'], ['doctor', 'returned'], ['missed', 'returned']]);
    expect(await unreadCount(db, counsellor.id)).toBe(2);
    clock.set(evening(6));
    await endEpisode({ db, clock }, { userId: manager.id, address: null }, { patientId: q.id, endDate: day(6), reason: 'hospitalised', note: '' }, null);
    expect((await alertsOf(db, q.id)).map((x) => x.closedAs)).toEqual(['episode_ended', 'episode_ended', 'episode_ended']);
    expect(await closeDay({ db, clock }, clinic.id, day(6), null, NONE)).toMatchObject({ patients: 1, raised: { missed: 0, counsellor: 0, doctor: 0, dropout: 0 }, closed: 0 });
    expect(await unreadCount(db, counsellor.id)).toBe(0);
  });

  it("R18 the manager's ruling: confirm ends the episode as dropped out on the raised day; reject keeps it open and is not proposed again for the same run", async () => {
    const { db, clinic, manager, nurse, patient, covered } = await staffed();
    const [p, q] = [await patient(), await patient()];
    await covered(p, 0);
    await covered(q, 0);
    const clock = new FixedClock(evening(30));
    const deps = { db, clock };
    const actor = { userId: manager.id, address: null };
    await closeDay(deps, clinic.id, day(30), null, NONE);
    const proposals = await dropoutProposals(db, [clinic.id]);
    expect(proposals.map((x) => [x.code, x.raised_day, x.missed_days]).sort()).toEqual([[p.code, day(30), 30], [q.code, day(30), 30]].sort());
    const of = (x: TestPatient) => proposals.find((y) => y.patient_id === x.id)!.alert_id;
    clock.set(evening(32));
    await ruleOnDropout(deps, actor, of(p), true, 'no contact for 30 days', [clinic.id]);
    await ruleOnDropout(deps, actor, of(q), false, 'in another province', [clinic.id]);
    await expect(ruleOnDropout(deps, actor, of(p), true, '', [clinic.id])).rejects.toMatchObject({ messageKey: 'fu_err_already_ruled' });
    const [ep] = await db.select().from(episodes).where(eq(episodes.id, p.episodeId));
    expect(ep).toMatchObject({ endDate: day(30), endReason: 'dropped_out' });
    expect((await alertsOf(db, p.id)).map((x) => [x.level, x.closedAs, x.closedBy]).sort()).toEqual(
      [['counsellor', 'episode_ended', null], ['doctor', 'episode_ended', null], ['dropout', 'dropout_confirmed', manager.id], ['missed', 'episode_ended', null]].sort(),
    );
    expect((await db.select().from(episodes).where(eq(episodes.id, q.episodeId)))[0]!.endDate).toBeNull();
    expect(await openOf(db, q.id)).toEqual({ missed: [30, 30], counsellor: [30, 30], doctor: [30, 30] });
    // The next closes count q on (not p) and do not propose q's dropout again.
    for (const n of [31, 32]) expect(await closeDay(deps, clinic.id, day(n), null, NONE)).toMatchObject({ patients: 1, raised: { missed: 0, counsellor: 0, doctor: 0, dropout: 0 } });
    expect(await dropoutProposals(db, [clinic.id])).toEqual([]);
    expect(await unreadCount(db, manager.id)).toBe(0);
    // After coming back, a new run of 30 is proposed again.
    await covered(q, 33);
    expect(await openOf(db, q.id)).toEqual({});
    clock.set(evening(63));
    await closeDay(deps, clinic.id, day(63), null, NONE);
    expect((await dropoutProposals(db, [clinic.id])).map((x) => [x.code, x.anchor_day, x.missed_days])).toEqual([[q.code, day(33), 30]]);
  });

  it('R11 R18 a re-enrolment after a long gap counts from the new episode, not from the last dose', async () => {
    const { db, clinic, manager, patient, covered } = await staffed();
    const p = await patient();
    await covered(p, 0);
    const clock = new FixedClock(evening(40));
    const actor = { userId: manager.id, address: null };
    await endEpisode({ db, clock }, actor, { patientId: p.id, endDate: day(1), reason: 'withdrew', note: '' }, null);
    const again = await enrol({ db, clock }, actor, { patientId: p.id, startDate: day(40), referralSource: '' }, null);
    expect(again.kind).toBe('re_enrolment');
    await closeDay({ db, clock }, clinic.id, day(40), null, NONE);
    clock.set(evening(42));
    await closeDay({ db, clock }, clinic.id, day(42), null, NONE);
    const rows = await alertsOf(db, p.id);
    expect(rows.map((x) => [x.episodeId, x.level, x.anchorDay, offset(x.raisedDay), x.missedDays])).toEqual([
      [again.id, 'missed', day(39), 40, 1],
      [again.id, 'counsellor', day(39), 42, 3],
    ]);
    expect((await missedList(db, clock.now(), [clinic.id])).find((r) => r.patientId === p.id)?.missed).toBe(3);
  });

  it('R17 several instances close each clinic-day once (PostgreSQL advisory lock; one connection on PGlite)', async () => {
    const t = get();
    const { db } = t;
    const instances = t.driver === 'postgres' && t.url ? await Promise.all([0, 1, 2].map(() => openDatabase({ kind: 'postgres', url: t.url! }, { migrate: false }))) : [];
    const handles = instances.length ? instances.map((i) => i.db) : [db, db, db];
    try {
      const places = await Promise.all([0, 1, 2].map(() => makeClinic(db)));
      const ids = places.map((c) => c.id);
      const nurse = await makeUser(db, 'nurse', ids);
      const counsellors = await Promise.all(ids.map((id) => makeUser(db, 'counsellor', [id])));
      await db.update(users).set({ email: 'x@example.vn', notifyEmail: true }).where(inArray(users.id, counsellors.map((c) => c.id)));
      const ps: TestPatient[] = [];
      for (const id of ids) for (let k = 0; k < 4; k++) ps.push(await addPatient(db, { clinicId: id, startDate: day(0) }));
      // Per clinic: one never came, one came on day 0, one on day 1, one on day 6 (recorded before the closes run).
      const lastCame = [null, 0, 1, 6];
      for (const [i, p] of ps.entries()) if (lastCame[i % 4] !== null) await cover(db, p, day(lastCame[i % 4]!), { givenBy: nurse.id });
      for (const id of ids) await closeDay({ db, clock: new FixedClock(evening(0)) }, id, day(0), null, NONE);
      const clock = new FixedClock(evening(6));
      const runs = await Promise.all(handles.flatMap((h) => [0, 1].map(() => closeDueDays({ db: h, clock }, ALL, { clinicIds: ids }))));
      const done = runs.flat().map((r) => `${r.clinicId}/${r.serviceDay}`);
      expect(done.length).toBe(18);
      expect(new Set(done).size).toBe(18);
      expect((await db.select().from(dayCloses).where(inArray(dayCloses.clinicId, ids))).length).toBe(21);
      // As one instance would: never came 3 alerts, day 0 3, day 1 3, day 6 none (a catch-up raises nothing for a run that had already ended).
      const made = await db.select().from(alerts).where(inArray(alerts.clinicId, ids));
      const keys = made.map((a) => `${a.episodeId}/${a.level}/${a.anchorDay}`);
      expect(new Set(keys).size).toBe(keys.length);
      expect(made.length).toBe(3 * 9);
      expect(made.filter((a) => a.closedAt === null).length).toBe(3 * 9);
      // Counsellor and doctor levels, raised from day 1 on (day 0 was closed with the channels off): 6 per clinic.
      const raisedIds = made.map((a) => a.id);
      expect((await db.select().from(outbox).where(inArray(outbox.alertId, raisedIds))).length).toBe(3 * 6);
      expect((await db.select().from(inbox).where(inArray(inbox.alertId, raisedIds))).length).toBe(3 * 6);
    } finally {
      await Promise.all(instances.map((i) => i.close()));
    }
  });
});
