// The counter through the real app: the scan, the card with the decision of
// this moment, check → confirm → dose, stale cards, R10 withholding and the
// doctor's ruling, check-in and the queue, the R13 swallow check, the service
// day around midnight, voids and the daily register with its CSV.
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { checkIns, doseOrders, doseReviews, doses, doseSlots, episodes, patients, swallowChecks, users, type Role } from '../../db/schema.ts';
import { fold } from '../../db/fold.ts';
import { FixedClock } from '../../server/clock.ts';
import { parseCsv } from '../../server/csv.ts';
import type { ParameterKey } from '../../server/dosing/parameters.ts';
import { recordDose } from '../../server/services/dispense.ts';
import { addRuleSetVersion, assignRuleSet, createRuleSet, listRuleSets, ruleSetOn } from '../../server/services/rule-sets.ts';
import { messages } from '../../views/i18n/index.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';

/** 09:00 in Hải Phòng (UTC+7) on 23 November 2026. */
const MORNING = new Date('2026-11-23T02:00:00Z');
const TODAY = '2026-11-23';
const MINUTE = 60_000;
const DAY = 86_400_000;
const t = messages('vi');

/** Text as it appears in the HTML (hono escapes & < > " '). */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
/** The value of a hidden field of the page (the last one of that name: the card's step form). */
function field(html: string, name: string): string {
  const all = [...html.matchAll(new RegExp(`name="${name}" value="([^"]*)"`, 'g'))];
  if (!all.length) throw new Error(`no field ${name} in:\n${html}`);
  return all[all.length - 1]![1]!;
}
const kindOf = (html: string) => /id="card"[^>]*data-kind="([^"]+)"/.exec(html)?.[1] ?? null;
/** The queue's list (not the expected-today list beside it). */
const queueList = (html: string) => /<ol class="queue-list"[\s\S]*?<\/ol>/.exec(html)?.[0] ?? '';
const patientOf = (html: string) => /id="card"[^>]*data-patient="([^"]+)"/.exec(html)?.[1] ?? null;

describeEachDatabase('the counter over HTTP', (get) => {
  let seq = 0;

  async function setup(opts: { at?: Date } = {}) {
    const { db } = get();
    const clock = new FixedClock(opts.at ?? MORNING);
    const app = makeTestApp(db, {}, clock);
    const clinic = await makeClinic(db, { name: 'Cơ sở Ngô Quyền' });
    const doctorUser = await makeUser(db, 'doctor', [clinic.id]);
    type Client = TestClient & { user: typeof users.$inferSelect };
    const sessionOf = async (c: TestClient, userId: string) => {
      const { token, csrfToken } = await sessionFor(db, userId, clock.now());
      c.setCookie('mp_session', token);
      c.csrf = csrfToken;
    };
    const login = async (role: Role, opts: { clinicIds?: string[]; fullName?: string } = {}): Promise<Client> => {
      const u = await makeUser(db, role, opts.clinicIds ?? [clinic.id]);
      if (opts.fullName) await db.update(users).set({ fullName: opts.fullName }).where(eq(users.id, u.id));
      const c = new TestClient(app.app);
      await sessionOf(c, u.id);
      return Object.assign(c, { user: { ...u, fullName: opts.fullName ?? u.fullName } });
    };
    /** A fresh session at the clock's time (a long clock jump outlives the idle timeout). */
    const relogin = (c: Client) => sessionOf(c, c.user.id);
    const nurse = await login('nurse', { fullName: 'Điều dưỡng Trần Thị Lan' });

    /** A patient in maintenance at 80 mg/day (or as asked), last dosed yesterday. */
    async function addPatient(o: { fullName?: string; at?: typeof clinic; orderMg?: number; takeHomeDays?: number; lastDoseDaysAgo?: number | null } = {}) {
      const home = o.at ?? clinic;
      const fullName = o.fullName ?? 'Vũ Văn Hải';
      const [p] = await db
        .insert(patients)
        .values({ code: `${home.code}-${String(++seq).padStart(5, '0')}`, homeClinicId: home.id, fullName, searchName: fold(fullName), birthDate: '1979-03-03', sex: 'male' })
        .returning();
      const [ep] = await db.insert(episodes).values({ patientId: p!.id, clinicId: home.id, kind: 'first', startDate: '2026-10-01' }).returning();
      const [order] = await db
        .insert(doseOrders)
        .values({ patientId: p!.id, episodeId: ep!.id, phase: 'maintenance', startDate: '2026-11-10', endDate: '2026-12-09', dailyMg: o.orderMg ?? 80, takeHomeDays: o.takeHomeDays ?? 0, prescribedBy: doctorUser.id, createdAt: new Date('2026-11-09T03:00:00Z') })
        .returning();
      const ago = o.lastDoseDaysAgo === undefined ? 1 : o.lastDoseDaysAgo;
      if (ago !== null) {
        const at = new Date(clock.now().getTime() - ago * DAY);
        const day = new Date(at.getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
        const [d] = await db
          .insert(doses)
          .values({ patientId: p!.id, episodeId: ep!.id, orderId: order!.id, clinicId: home.id, serviceDay: day, outcome: 'given', prescribedMg: order!.dailyMg, givenMg: order!.dailyMg, ml: order!.dailyMg / 10, concentration: 10, givenBy: doctorUser.id, at })
          .returning();
        await db.insert(doseSlots).values({ patientId: p!.id, serviceDay: day, part: 1, doseId: d!.id });
      }
      return { ...p!, episodeId: ep!.id, orderId: order!.id };
    }

    /** This clinic follows a rule set of its own with some parameters changed from today. */
    async function useRules(values: Partial<Record<ParameterKey, number>>) {
      const admin = await makeUser(db, 'admin', []);
      const actor = { userId: admin.id, address: null };
      const day = new Date(clock.now().getTime() + 7 * 3_600_000).toISOString().slice(0, 10);
      const deps = { db, clock };
      const setId = await createRuleSet(deps, actor, { fromRuleSetId: (await listRuleSets(db)).defaultSetId!, name: `Test ${randomUUID()}` }, day);
      const entries = { ...(await ruleSetOn(db, setId, day)).entries };
      for (const [k, v] of Object.entries(values) as [ParameterKey, number][]) entries[k] = { ...entries[k], value: v };
      await addRuleSetVersion(deps, actor, { ruleSetId: setId, effectiveFrom: day, approvedBy: 'Sở Y tế (test)', note: '', entries }, day);
      await assignRuleSet(deps, actor, clinic.id, setId);
    }

    const scan = (c: TestClient, q: string, clinicId = clinic.id) => c.get(`/counter/find?clinic=${clinicId}&q=${encodeURIComponent(q)}`);
    /** The card's hidden fields, as the step forms post them. */
    const cardFields = (html: string) => ({ clinic: clinic.id, patient: field(html, 'patient'), requestId: field(html, 'requestId'), part: field(html, 'part'), mg: field(html, 'mg') });
    /** Scan, "no signs", "given": the routine patient. Returns each step's answer. */
    async function giveDose(c: TestClient, code: string) {
      const card = await scan(c, code);
      expect(kindOf(card.html)).toBe('give');
      const f = cardFields(card.html);
      const check = await c.post('/counter/check', { ...f, intoxication: 'none' });
      expect(check.res.status).toBe(200);
      const confirm = await c.post('/counter/dose', { ...f, intoxication: 'none', breathAlcohol: '', outcome: 'given' });
      expect(confirm.res.status).toBe(200);
      return { card, check, confirm, fields: f };
    }
    const dosesOf = (patientId: string) => db.select().from(doses).where(eq(doses.patientId, patientId)).orderBy(doses.at);
    const todaysDoses = (patientId: string, day = TODAY) => db.select().from(doses).where(and(eq(doses.patientId, patientId), eq(doses.serviceDay, day)));
    const slotsOf = (patientId: string, day = TODAY) => db.select().from(doseSlots).where(and(eq(doseSlots.patientId, patientId), eq(doseSlots.serviceDay, day)));

    return { db, clock, app, clinic, doctorUser, nurse, login, relogin, addPatient, useRules, scan, cardFields, giveDose, dosesOf, todaysDoses, slotsOf };
  }

  it('GET /counter renders the scan field, the working area and the queue', async () => {
    const { nurse, clinic } = await setup();
    const { res, html } = await nurse.get('/counter');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(html).toContain(esc(t.ctr_at_clinic({ name: clinic.name })));
    expect(html).toContain('id="counter"');
    expect(html).toContain('name="q"');
    expect(html).toContain('id="queue-panel"');
    expect(html).toContain(t.ctr_queue_empty);
  });

  it('finds a patient by the exact code (as a scanner types it), by part of a name, and says so when nothing matches', async () => {
    const { nurse, addPatient, scan } = await setup();
    const an = await addPatient({ fullName: 'Nguyễn Văn An' });
    const binh = await addPatient({ fullName: 'Nguyễn Văn Bình' });

    const exact = await scan(nurse, an.code);
    expect(exact.res.status).toBe(200);
    expect(kindOf(exact.html)).toBe('give');
    expect(patientOf(exact.html)).toBe(an.code);
    expect(exact.html).toContain('Nguyễn Văn An');
    expect(exact.html).toContain(t.ctr_dose_amount({ mg: '80', ml: '8' }));
    // A scanner's trailing newline, a person's lower case.
    expect(patientOf((await scan(nurse, ` ${an.code.toLowerCase()}\n`)).html)).toBe(an.code);

    const several = await scan(nurse, 'nguyen van');
    expect(kindOf(several.html)).toBeNull();
    expect(several.html).toContain(t.ctr_matches);
    expect(several.html).toContain(`/counter/card/${an.id}`);
    expect(several.html).toContain(`/counter/card/${binh.id}`);

    const one = await scan(nurse, 'binh');
    expect(patientOf(one.html)).toBe(binh.code);

    const none = await scan(nurse, 'XX99-00000');
    expect(none.res.status).toBe(200);
    expect(kindOf(none.html)).toBeNull();
    expect(none.html).toContain(esc(t.ctr_not_found({ q: 'XX99-00000' })));
  });

  it('R12 a patient of a clinic the nurse does not work at: only the not-this-clinic message, never the name', async () => {
    const { db, nurse, addPatient, scan, clinic } = await setup();
    const elsewhere = await makeClinic(db, { name: 'Cơ sở Lê Chân' });
    const stranger = await addPatient({ at: elsewhere, fullName: 'Hoàng Thị Bí Mật' });
    const card = await scan(nurse, stranger.code);
    expect(card.res.status).toBe(200);
    expect(kindOf(card.html)).toBe('not_this_clinic');
    expect(card.html).toContain(esc(t.ctr_other_clinic_card({ code: stranger.code })));
    expect(card.html).not.toContain('Hoàng Thị Bí Mật');
    expect(card.html).not.toContain('03/03/1979');
    expect(card.html).not.toContain('Lê Chân');
    expect(card.html).not.toContain('name="requestId"');
    // Not found by name either: the search stays in the nurse's clinics.
    const byName = await scan(nurse, 'hoang thi bi mat');
    expect(byName.html).toContain(esc(t.ctr_not_found({ q: 'hoang thi bi mat' })));
    expect(byName.html).not.toContain(stranger.id);
    // The card page by id says the same.
    const direct = await nurse.get(`/counter/card/${stranger.id}?clinic=${clinic.id}`);
    expect(direct.html).not.toContain('Hoàng Thị Bí Mật');
    // A forged dose form for them records nothing and shows nothing more.
    const forged = await nurse.post('/counter/dose', { clinic: clinic.id, patient: stranger.id, requestId: randomUUID(), part: '1', mg: '80', intoxication: 'none', outcome: 'given' });
    expect(forged.res.status).toBe(409);
    expect(forged.html).not.toContain('Hoàng Thị Bí Mật');
    // Nor may she work the other clinic's counter.
    const otherCounter = await nurse.post('/counter/dose', { clinic: elsewhere.id, patient: stranger.id, requestId: randomUUID(), part: '1', mg: '80', intoxication: 'none', outcome: 'given' });
    expect(otherCounter.res.status).toBe(404);
    expect(await db.select().from(doses).where(and(eq(doses.patientId, stranger.id), eq(doses.serviceDay, TODAY)))).toHaveLength(0);
  });

  it('R9 check → confirm → given records exactly one dose; the next scan says already dosed, when and by whom', async () => {
    const { nurse, addPatient, scan, cardFields, todaysDoses, slotsOf, clinic } = await setup();
    const p = await addPatient({ fullName: 'Phạm Văn Đức' });
    const card = await scan(nurse, p.code);
    expect(kindOf(card.html)).toBe('give');
    expect(card.html).toContain('action="/counter/check"');
    const f = cardFields(card.html);
    expect(f).toMatchObject({ patient: p.id, part: '1', mg: '80' });

    const check = await nurse.post('/counter/check', { ...f, intoxication: 'none' });
    expect(check.res.status).toBe(200);
    expect(check.html).toContain('action="/counter/dose"');
    expect(check.html).toContain(esc(t.ctr_confirm_given({ mg: '80', ml: '8' })));
    expect(field(check.html, 'requestId')).toBe(f.requestId);
    expect(await todaysDoses(p.id)).toHaveLength(0);

    const given = await nurse.post('/counter/dose', { ...f, intoxication: 'none', breathAlcohol: '', outcome: 'given' });
    expect(given.res.status).toBe(200);
    expect(given.html).toContain(esc(t.ctr_result_given({ name: 'Phạm Văn Đức', mg: '80', ml: '8' })));
    const rows = await todaysDoses(p.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'given', givenMg: 80, prescribedMg: 80, ml: 8, intoxication: 'none', givenBy: nurse.user.id, requestId: f.requestId, clinicId: clinic.id });
    expect(await slotsOf(p.id)).toHaveLength(1);

    // The same confirmation again (a double click, a retry) finds its record.
    const retry = await nurse.post('/counter/dose', { ...f, intoxication: 'none', breathAlcohol: '', outcome: 'given' });
    expect(retry.res.status).toBe(200);
    expect(await todaysDoses(p.id)).toHaveLength(1);

    const again = await scan(nurse, p.code);
    expect(kindOf(again.html)).toBe('already_dosed');
    expect(again.html).toContain(esc(t.ctr_blocked_by({ time: '09:00', name: 'Điều dưỡng Trần Thị Lan', clinic: clinic.code })));
    expect(again.html).not.toContain('action="/counter/check"');
  });

  it('R9 a stale card (mg or part not the decision of this moment, or dosed meanwhile) answers 409 and writes nothing', async () => {
    const { nurse, addPatient, scan, cardFields, todaysDoses, db, clock, clinic, login } = await setup();
    const p = await addPatient();
    const f = cardFields((await scan(nurse, p.code)).html);

    for (const [route, over] of [
      ['/counter/check', { mg: '90' }],
      ['/counter/check', { part: '2' }],
      ['/counter/dose', { mg: '90' }],
      ['/counter/dose', { mg: '40' }],
      ['/counter/dose', { part: '2' }],
    ] as const) {
      const r = await nurse.post(route, { ...f, ...over, requestId: randomUUID(), intoxication: 'none', breathAlcohol: '', outcome: 'given' });
      expect(r.res.status, `${route} ${JSON.stringify(over)}`).toBe(409);
      expect(r.html, `${route} ${JSON.stringify(over)}`).toContain(esc(t.ctr_err_stale));
      // The card is shown again, re-decided.
      expect(kindOf(r.html)).toBe('give');
    }
    expect(await todaysDoses(p.id)).toHaveLength(0);

    // Another counter doses the patient between this card and its confirmation.
    const colleague = await login('nurse');
    const other = await recordDose({ db, clock }, { userId: colleague.user.id, address: null }, { patientId: p.id, clinicId: clinic.id, outcome: 'given', intoxication: 'none', breathAlcohol: null, requestId: randomUUID() }, [clinic.id]);
    expect(other.kind).toBe('recorded');
    const late = await nurse.post('/counter/dose', { ...f, intoxication: 'none', breathAlcohol: '', outcome: 'given' });
    expect(late.res.status).toBe(409);
    expect(late.html).toContain(esc(t.ctr_err_stale));
    expect(kindOf(late.html)).toBe('already_dosed');
    const lateCheck = await nurse.post('/counter/check', { ...f, intoxication: 'none' });
    expect(lateCheck.res.status).toBe(409);
    expect(lateCheck.html).toContain(esc(t.ctr_err_stale));
    expect(await todaysDoses(p.id)).toHaveLength(1);
  });

  it('R10 signs of intoxication withhold the dose; the doctor sees it, rules "resume" with a note, and the counter may dose again', async () => {
    const { nurse, login, addPatient, scan, cardFields, todaysDoses, slotsOf, clock, clinic, db, giveDose } = await setup();
    const doctor = await login('doctor', { fullName: 'BS. Lê Văn Minh' });
    const p = await addPatient({ fullName: 'Đỗ Văn Tùng' });
    const f = cardFields((await scan(nurse, p.code)).html);

    const withheld = await nurse.post('/counter/check', { ...f, intoxication: 'signs', finding: 'intoxicated', breathAlcohol: '0,25' });
    expect(withheld.res.status).toBe(200);
    expect(withheld.html).toContain(esc(t.ctr_result_withheld({ name: 'Đỗ Văn Tùng' })));
    const rows = await todaysDoses(p.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'withheld', intoxication: 'intoxicated', breathAlcohol: 0.25, givenMg: 0, ml: 0 });
    expect(await slotsOf(p.id)).toHaveLength(0);

    // The card now says: doctor review (R10), with when and by whom.
    const card = await scan(nurse, p.code);
    expect(kindOf(card.html)).toBe('doctor_review');
    expect(card.html).toContain(esc(t.reason_withheld_intoxication({ at: '09:00', byName: 'Điều dưỡng Trần Thị Lan' })));
    expect(card.html).not.toContain('action="/counter/check"');
    // A stale dose form from before the withholding is refused.
    const stale = await nurse.post('/counter/dose', { ...f, requestId: randomUUID(), intoxication: 'none', outcome: 'given' });
    expect(stale.res.status).toBe(409);
    expect(await todaysDoses(p.id)).toHaveLength(1);

    // The doctor's list shows the withholding with its finding and breath reading.
    const list = await doctor.get(`/review?clinic=${clinic.id}`);
    expect(list.res.status).toBe(200);
    expect(list.html).toContain(`id="review-${p.code}"`);
    expect(list.html).toContain(esc(t.review_withheld({ time: '09:00', name: 'Điều dưỡng Trần Thị Lan', finding: t.intoxication_intoxicated })));
    expect(list.html).toContain(esc(t.review_breath({ value: '0,25' })));

    // A ruling needs a note.
    clock.advance(10 * MINUTE);
    const noNote = await doctor.post('/review', { clinic: clinic.id, patient: p.id, kind: 'resume', maxMg: '', note: '  ' });
    expect(noNote.res.status).toBe(422);
    expect(noNote.html).toContain(esc(t.err_review_note));
    // R10 before R11: a reduced-dose approval does not lift a withholding for intoxication.
    const reduced = await doctor.post('/review', { clinic: clinic.id, patient: p.id, kind: 'reduced', maxMg: '40', note: 'Nửa liều' });
    expect(reduced.res.status).toBe(422);
    expect(reduced.html).toContain(esc(t.err_review_withheld_first));
    expect(reduced.html).toContain('Nửa liều');
    expect(await db.select().from(doseReviews).where(eq(doseReviews.patientId, p.id))).toHaveLength(0);

    const ruled = await doctor.post('/review', { clinic: clinic.id, patient: p.id, kind: 'resume', maxMg: '', note: 'Đã tỉnh, nói rõ; cho uống' });
    expect(ruled.res.status).toBe(303);
    expect(ruled.res.headers.get('location')).toBe(`/review?clinic=${clinic.id}`);
    const reviews = await db.select().from(doseReviews).where(eq(doseReviews.patientId, p.id));
    expect(reviews).toMatchObject([{ kind: 'resume', maxMg: null, note: 'Đã tỉnh, nói rõ; cho uống', doctorId: doctor.user.id, serviceDay: TODAY }]);
    const after = await doctor.get(`/review?clinic=${clinic.id}`);
    expect(after.html).toContain(t.review_saved);
    expect(after.html).not.toContain(`id="review-${p.code}"`);

    clock.advance(5 * MINUTE);
    const { confirm } = await giveDose(nurse, p.code);
    expect(confirm.html).toContain(esc(t.ctr_result_given({ name: 'Đỗ Văn Tùng', mg: '80', ml: '8' })));
    expect((await todaysDoses(p.id)).map((r) => r.outcome).sort()).toEqual(['given', 'withheld']);
    expect(await slotsOf(p.id)).toHaveLength(1);
    // A nurse does not rule.
    expect((await nurse.post('/review', { clinic: clinic.id, patient: p.id, kind: 'resume', maxMg: '', note: 'x' })).res.status).toBe(403);
  });

  it('R10 a doctor’s "no dose" ruling closes the day at the counter and takes the patient off the review list', async () => {
    const { nurse, login, addPatient, scan, cardFields, clock, clinic, db } = await setup();
    const doctor = await login('doctor');
    const p = await addPatient();
    const f = cardFields((await scan(nurse, p.code)).html);
    await nurse.post('/counter/check', { ...f, intoxication: 'signs', finding: 'suspected', breathAlcohol: '' });
    clock.advance(10 * MINUTE);
    expect((await doctor.post('/review', { clinic: clinic.id, patient: p.id, kind: 'no_dose', maxMg: '', note: 'Say rượu rõ' })).res.status).toBe(303);
    const card = await scan(nurse, p.code);
    expect(kindOf(card.html)).toBe('doctor_review');
    expect(card.html).toContain(esc(t.reason_doctor_no_dose({})));
    // Ruled on: nothing is waiting for the doctor any more (a later "resume" would not reopen the day).
    const list = await doctor.get(`/review?clinic=${clinic.id}`);
    expect(list.html).not.toContain(`id="review-${p.code}"`);
    const late = await doctor.post('/review', { clinic: clinic.id, patient: p.id, kind: 'resume', maxMg: '', note: 'Cho uống' });
    expect(late.res.status).toBe(404);
    expect(await db.select().from(doseReviews).where(eq(doseReviews.patientId, p.id))).toHaveLength(1);
  });

  it.each(['abc', '9', '-1', '0,2555', '1e309'])('R10 a breath alcohol of %j is refused with 422 and nothing is written', async (value) => {
    const { nurse, addPatient, scan, cardFields, todaysDoses } = await setup();
    const p = await addPatient();
    const f = cardFields((await scan(nurse, p.code)).html);
    const r = await nurse.post('/counter/check', { ...f, intoxication: 'signs', finding: 'intoxicated', breathAlcohol: value });
    expect(r.res.status).toBe(422);
    expect(r.html).toContain(esc(t.err_breath));
    expect(kindOf(r.html)).toBe('give');
    expect(await todaysDoses(p.id)).toHaveLength(0);
  });

  it('check-in puts the patient in the queue once; calling the next patient opens their card and empties the queue', async () => {
    const { nurse, addPatient, clinic, db } = await setup();
    const p = await addPatient({ fullName: 'Bùi Văn Nam' });
    await nurse.get(`/checkin?clinic=${clinic.id}`);
    const first = await nurse.post('/checkin', { clinic: clinic.id, code: p.code.toLowerCase() });
    expect(first.res.status).toBe(200);
    expect(first.html).toContain(esc(t.checkin_done({ code: p.code, n: 1 })));
    const queue = await nurse.get(`/counter/queue?clinic=${clinic.id}`);
    expect(queueList(queue.html)).toContain(p.code);
    expect(queueList(queue.html)).toContain('Bùi Văn Nam');
    const second = await nurse.post('/checkin', { clinic: clinic.id, code: p.code });
    expect(second.res.status).toBe(200);
    expect(second.html).toContain(esc(t.checkin_already({ code: p.code })));
    expect(await db.select().from(checkIns).where(eq(checkIns.patientId, p.id))).toHaveLength(1);
    const unknown = await nurse.post('/checkin', { clinic: clinic.id, code: 'NOPE-00001' });
    expect(unknown.res.status).toBe(404);
    expect(unknown.html).toContain(esc(t.checkin_not_found));

    const called = await nurse.post('/counter/call-next', { clinic: clinic.id });
    expect(called.res.status).toBe(200);
    expect(patientOf(called.html)).toBe(p.code);
    expect(kindOf(called.html)).toBe('give');
    const [row] = await db.select().from(checkIns).where(eq(checkIns.patientId, p.id));
    expect(row!.calledBy).toBe(nurse.user.id);
    const empty = await nurse.get(`/counter/queue?clinic=${clinic.id}`);
    expect(queueList(empty.html)).toBe('');
    expect(empty.html).toContain(t.ctr_queue_empty);
    // Called but not yet dosed: still expected today.
    expect(empty.html).toContain(esc(t.ctr_expected_title({ n: 1 })));
    const nobody = await nurse.post('/counter/call-next', { clinic: clinic.id });
    expect(nobody.html).toContain(esc(t.ctr_queue_empty_call));
  });

  it('R12 check-in of a patient of another clinic is not found, and tells nothing about them', async () => {
    const { db, nurse, addPatient, clinic } = await setup();
    const elsewhere = await makeClinic(db);
    const stranger = await addPatient({ at: elsewhere, fullName: 'Hoàng Thị Bí Mật' });
    const r = await nurse.post('/checkin', { clinic: clinic.id, code: stranger.code });
    expect(r.res.status).toBe(404);
    expect(r.html).not.toContain('Hoàng Thị Bí Mật');
    expect(await db.select().from(checkIns).where(eq(checkIns.patientId, stranger.id))).toHaveLength(0);
  });

  it('two counters calling at once get two different patients (SKIP LOCKED)', async () => {
    const { nurse, login, addPatient, clinic, clock } = await setup();
    const colleague = await login('nurse');
    const a = await addPatient();
    const b = await addPatient();
    await nurse.post('/checkin', { clinic: clinic.id, code: a.code });
    clock.advance(MINUTE);
    await nurse.post('/checkin', { clinic: clinic.id, code: b.code });
    const [one, two] = await Promise.all([nurse.post('/counter/call-next', { clinic: clinic.id }), colleague.post('/counter/call-next', { clinic: clinic.id })]);
    expect([one.res.status, two.res.status]).toEqual([200, 200]);
    expect([patientOf(one.html), patientOf(two.html)].sort()).toEqual([a.code, b.code].sort());
    expect(queueList((await nurse.get(`/counter/queue?clinic=${clinic.id}`)).html)).toBe('');
  });

  it('R13 with the swallow check on, a given dose asks for it, and a diversion flags the patient’s card afterwards', async () => {
    // 06:30 in Hải Phòng, still the 22nd in UTC: the flag must show the local day of the incident.
    const { nurse, relogin, addPatient, useRules, giveDose, scan, db, clock } = await setup({ at: new Date('2026-11-22T23:30:00Z') });
    await useRules({ swallow_check_enabled: 1 });
    const p = await addPatient({ fullName: 'Lý Văn Sơn' });
    const other = await addPatient();

    const { confirm } = await giveDose(nurse, p.code);
    expect(confirm.html).toContain(esc(t.ctr_result_given({ name: 'Lý Văn Sơn', mg: '80', ml: '8' })));
    expect(confirm.html).toContain('action="/counter/swallow"');
    const doseId = field(confirm.html, 'dose');
    const clinicId = field(confirm.html, 'clinic');
    const diversion = await nurse.post('/counter/swallow', { clinic: clinicId, dose: doseId, outcome: 'diversion', note: 'Ngậm thuốc, nhổ ra cốc' });
    expect(diversion.res.status).toBe(200);
    expect(diversion.html).toContain(esc(t.ctr_result_diversion({ name: 'Lý Văn Sơn' })));
    expect(await db.select().from(swallowChecks).where(eq(swallowChecks.doseId, doseId))).toMatchObject([{ outcome: 'diversion', note: 'Ngậm thuốc, nhổ ra cốc', by: nurse.user.id }]);
    // A retried confirmation of the same dose: the first stands.
    await nurse.post('/counter/swallow', { clinic: clinicId, dose: doseId, outcome: 'swallowed', note: '' });
    expect(await db.select().from(swallowChecks).where(eq(swallowChecks.doseId, doseId))).toHaveLength(1);

    // The next day the card carries the warning, dated with the local day of the incident.
    clock.advance(DAY);
    await relogin(nurse);
    const card = await scan(nurse, p.code);
    expect(kindOf(card.html)).toBe('give');
    expect(card.html).toContain(esc(t.ctr_diversion({ day: '23/11/2026' })));
    // Swallowed: no flag.
    const { confirm: ok } = await giveDose(nurse, other.code);
    const swallowed = await nurse.post('/counter/swallow', { clinic: clinicId, dose: field(ok.html, 'dose'), outcome: 'swallowed', note: '' });
    expect(swallowed.html).toContain(esc(t.ctr_result_swallowed({ name: 'Vũ Văn Hải' })));
    expect((await scan(nurse, other.code)).html).not.toContain('class="flag"');
  });

  it('without the swallow check (the default), a given dose goes straight back to the scan', async () => {
    const { nurse, addPatient, giveDose } = await setup();
    const p = await addPatient();
    const { confirm } = await giveDose(nurse, p.code);
    expect(confirm.html).not.toContain('action="/counter/swallow"');
    expect(kindOf(confirm.html)).toBeNull();
  });

  it('R14 with take-home on, a given dose offers the take-home step; the days are handed out once', async () => {
    const { nurse, addPatient, useRules, giveDose, scan, db, clinic } = await setup();
    await useRules({ take_home_enabled: 1 });
    const p = await addPatient({ fullName: 'Tạ Văn Lộc', takeHomeDays: 2 });
    const { confirm } = await giveDose(nurse, p.code);
    expect(confirm.html).toContain('action="/counter/take-home"');
    expect(confirm.html).toContain('<option value="2">2</option>');
    expect(confirm.html).not.toContain('<option value="3">');
    const requestId = field(confirm.html, 'requestId');
    const handed = await nurse.post('/counter/take-home', { clinic: clinic.id, patient: p.id, requestId, days: '2' });
    expect(handed.res.status).toBe(200);
    expect(handed.html).toContain(esc(t.ctr_result_take_home({ name: 'Tạ Văn Lộc', days: 2 })));
    const rows = await db.select().from(doses).where(and(eq(doses.patientId, p.id), eq(doses.outcome, 'take_home')));
    expect(rows.map((r) => r.serviceDay).sort()).toEqual(['2026-11-24', '2026-11-25']);
    // The same form again (a retry) writes nothing; a new hand-out over covered days is a 409 with its message.
    expect((await nurse.post('/counter/take-home', { clinic: clinic.id, patient: p.id, requestId, days: '2' })).res.status).toBe(200);
    const again = await nurse.post('/counter/take-home', { clinic: clinic.id, patient: p.id, requestId: randomUUID(), days: '1' });
    expect(again.res.status).toBe(409);
    expect(again.html).toContain(esc(t.err_take_home_day_covered));
    const tooMany = await nurse.post('/counter/take-home', { clinic: clinic.id, patient: p.id, requestId: randomUUID(), days: '3' });
    expect(tooMany.res.status).toBe(422);
    expect(tooMany.html).toContain(esc(t.err_take_home_days));
    expect(await db.select().from(doses).where(and(eq(doses.patientId, p.id), eq(doses.outcome, 'take_home')))).toHaveLength(2);
    expect(kindOf((await scan(nurse, p.code)).html)).toBe('already_dosed');
  });

  it('the service day is the clinic’s local date: doses at 23:30 and at 00:10 the next day land on their own days', async () => {
    const { nurse, relogin, addPatient, giveDose, clock, todaysDoses, scan, clinic } = await setup({ at: new Date('2026-11-23T16:30:00Z') }); // 23:30 in Hải Phòng
    const p = await addPatient();
    await giveDose(nurse, p.code);
    expect((await todaysDoses(p.id, '2026-11-23')).map((r) => r.serviceDay)).toEqual(['2026-11-23']);
    expect(kindOf((await scan(nurse, p.code)).html)).toBe('already_dosed');

    clock.set('2026-11-23T17:10:00Z'); // 00:10 on the 24th
    await relogin(nurse);
    await giveDose(nurse, p.code);
    expect(await todaysDoses(p.id, '2026-11-24')).toHaveLength(1);
    expect(await todaysDoses(p.id, '2026-11-23')).toHaveLength(1);
    const register = await nurse.get(`/register?clinic=${clinic.id}`);
    expect(register.html).toContain(esc(t.register_heading({ clinic: `${clinic.name} (${clinic.code})`, day: '24/11/2026' })));
    expect(register.html).toContain('<td>00:10</td>');
    expect(register.html).not.toContain('<td>23:30</td>');
  });

  it('a counsellor may not dose (403) and nothing is written; nor see the register; a nurse may not void', async () => {
    const { login, nurse, addPatient, scan, cardFields, todaysDoses, giveDose, clinic } = await setup();
    const counsellor = await login('counsellor');
    const p = await addPatient();
    const f = cardFields((await scan(nurse, p.code)).html);
    const r = await counsellor.post('/counter/dose', { ...f, intoxication: 'none', breathAlcohol: '', outcome: 'given' });
    expect(r.res.status).toBe(403);
    expect((await counsellor.post('/counter/check', { ...f, intoxication: 'none' })).res.status).toBe(403);
    expect((await counsellor.get(`/counter?clinic=${clinic.id}`)).res.status).toBe(403);
    expect((await counsellor.get(`/register?clinic=${clinic.id}`)).res.status).toBe(403);
    expect(await todaysDoses(p.id)).toHaveLength(0);
    await giveDose(nurse, p.code);
    const [dose] = await todaysDoses(p.id);
    expect((await nurse.post(`/doses/${dose!.id}/void`, { reason: 'Ghi nhầm người bệnh' })).res.status).toBe(403);
    expect(await todaysDoses(p.id)).toHaveLength(1);
  });

  it('a manager voids a dose with a reason: both rows stay in the register and the patient can be dosed again; no reason, no void', async () => {
    const { login, nurse, addPatient, giveDose, todaysDoses, slotsOf, clinic, clock, scan } = await setup();
    const manager = await login('manager', { fullName: 'Quản lý Phan Văn Khải' });
    const p = await addPatient({ fullName: 'Mai Văn Tâm' });
    await giveDose(nurse, p.code);
    const [dose] = await todaysDoses(p.id);

    await manager.get(`/register?clinic=${clinic.id}`);
    for (const reason of ['', '   ', 'abc']) {
      const r = await manager.post(`/doses/${dose!.id}/void`, { reason });
      expect(r.res.status).toBe(303);
      expect(await todaysDoses(p.id)).toHaveLength(1);
    }
    expect((await manager.get(`/register?clinic=${clinic.id}`)).html).toContain(esc(t.err_void_reason));

    clock.advance(20 * MINUTE);
    const voided = await manager.post(`/doses/${dose!.id}/void`, { reason: 'Ghi nhầm người bệnh' });
    expect(voided.res.status).toBe(303);
    expect(voided.res.headers.get('location')).toBe(`/register?clinic=${clinic.id}&day=${TODAY}`);
    const rows = await todaysDoses(p.id);
    expect(rows).toHaveLength(2);
    const voidRow = rows.find((r) => r.voidsId === dose!.id)!;
    expect(voidRow).toMatchObject({ voidReason: 'Ghi nhầm người bệnh', givenBy: manager.user.id, givenMg: 0 });
    expect(await slotsOf(p.id)).toHaveLength(0);

    const register = await manager.get(`/register?clinic=${clinic.id}&day=${TODAY}`);
    expect(register.res.status).toBe(200);
    expect(register.html).toContain(t.void_done);
    expect(register.html).toContain('class="voided"');
    expect(register.html).toContain(esc(t.register_void_row({ reason: 'Ghi nhầm người bệnh' })));
    expect(register.html).toContain('Mai Văn Tâm');
    // The voided dose no longer counts in the totals.
    expect(register.html).toContain(esc(t.register_totals({ mg: '0', ml: '0', n: 0 })));

    // The patient is expected again and can be dosed again.
    expect(kindOf((await scan(nurse, p.code)).html)).toBe('give');
    await giveDose(nurse, p.code);
    expect(await todaysDoses(p.id)).toHaveLength(3);
    expect(await slotsOf(p.id)).toHaveLength(1);
    // A second void of the same record is refused; a void of the void too.
    const twice = await manager.post(`/doses/${dose!.id}/void`, { reason: 'Hủy lần hai' });
    expect(twice.res.status).toBe(303);
    const ofVoid = await manager.post(`/doses/${voidRow.id}/void`, { reason: 'Hủy bản ghi hủy' });
    expect(ofVoid.res.status).toBe(303);
    expect(await todaysDoses(p.id)).toHaveLength(3);
  });

  it('GET /register.csv: text/csv with a byte order mark, the header row and the rows; a formula-like name is defused', async () => {
    const { nurse, addPatient, giveDose, clinic, clock } = await setup();
    const formula = await addPatient({ fullName: '=HYPERLINK("http://evil.example","Nhấn vào đây")' });
    const plain = await addPatient({ fullName: 'Nguyễn Văn Ánh, con' });
    await giveDose(nurse, formula.code);
    clock.advance(MINUTE);
    await giveDose(nurse, plain.code);

    const res = await nurse.request(`/register.csv?clinic=${clinic.id}&day=${TODAY}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toContain(`register-${clinic.code}-${TODAY}.csv`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    expect(text.startsWith('\uFEFF')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    const { records } = parseCsv(text);
    expect(records[0]).toEqual([
      t.register_day,
      t.register_time,
      t.patient_code,
      t.patient_full_name,
      t.register_part,
      t.register_outcome,
      t.register_prescribed,
      t.register_given,
      t.register_ml,
      t.register_check,
      t.register_method,
      t.register_staff,
      t.void_reason,
    ]);
    expect(records.slice(1)).toEqual([
      [TODAY, '09:00:00', formula.code, `'=HYPERLINK("http://evil.example","Nhấn vào đây")`, '1', t.dose_outcome_given, '80', '80', '8', t.intoxication_none, t.method_manual, 'Điều dưỡng Trần Thị Lan', ''],
      [TODAY, '09:01:00', plain.code, 'Nguyễn Văn Ánh, con', '1', t.dose_outcome_given, '80', '80', '8', t.intoxication_none, t.method_manual, 'Điều dưỡng Trần Thị Lan', ''],
    ]);
    // No line of the file starts a cell with "=".
    expect(text).not.toMatch(/(^|[\r\n,])"?=/);
  });
});

