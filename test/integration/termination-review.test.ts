// R19 through the day close and the patient page: the grounds to review
// termination are flagged to the clinic's doctors (in the app only, never by
// e-mail or webhook), stay open when the patient comes back, close when the
// doctor records the review, and come back only with new evidence.
import { and, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { alerts, auditLog, doseOrders, inbox, outbox, swallowChecks, urineTests, users } from '../../db/schema.ts';
import { FixedClock } from '../../server/clock.ts';
import { closeDay } from '../../server/services/day-close.ts';
import { messages } from '../../views/i18n/index.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';
import { addPatient, cover } from '../helpers/follow-up.ts';

const t = messages('vi');
const ON = { email: true, webhook: true };

describeEachDatabase('R19 termination review', (get) => {
  async function setup() {
    const { db } = get();
    const clock = new FixedClock(new Date('2026-11-23T11:00:00Z'));
    const clinic = await makeClinic(db);
    const doctor = await makeUser(db, 'doctor', [clinic.id]);
    const counsellor = await makeUser(db, 'counsellor', [clinic.id]);
    const nurse = await makeUser(db, 'nurse', [clinic.id]);
    for (const u of [doctor, counsellor]) await db.update(users).set({ email: `${u.username}@example.org`, notifyEmail: true, notifyWebhook: true, webhookTo: '0912345678' }).where(eq(users.id, u.id));
    const p = await addPatient(db, { clinicId: clinic.id, startDate: '2026-01-01' });
    await db.insert(doseOrders).values({ patientId: p.id, episodeId: p.episodeId, phase: 'maintenance', startDate: '2026-03-01', endDate: '2026-12-31', dailyMg: 80, prescribedBy: doctor.id });
    for (const day of ['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23']) await cover(db, p, day, { givenBy: nurse.id });
    const client = async (userId: string) => {
      const c = new TestClient(makeTestApp(db, {}, clock).app);
      const s = await sessionFor(db, userId, clock.now());
      c.setCookie('mp_session', s.token);
      c.csrf = s.csrfToken;
      return c;
    };
    const divert = async (day: string) => {
      const doseId = await cover(db, p, day, { givenBy: nurse.id });
      await db.insert(swallowChecks).values({ doseId, patientId: p.id, outcome: 'diversion', by: nurse.id, at: new Date(`${day}T03:00:00Z`) });
    };
    const test = (testDate: string, results: Record<string, 'positive' | 'negative'>) => db.insert(urineTests).values({ patientId: p.id, clinicId: clinic.id, testDate, results, recordedBy: doctor.id });
    const reviewAlerts = () => db.select().from(alerts).where(and(eq(alerts.patientId, p.id), eq(alerts.level, 'review')));
    return { db, clock, clinic, doctor, counsellor, nurse, p, client, divert, test, reviewAlerts };
  }

  it('R19 two diversions in 6 months flag the doctors in the app only, with the ground named', async () => {
    const { db, clock, clinic, doctor, counsellor, divert, reviewAlerts } = await setup();
    await divert('2026-09-01');
    await divert('2026-11-19');
    const r = await closeDay({ db, clock }, clinic.id, '2026-11-23', null, ON);
    expect(r?.raised.review).toBe(1);
    const [a] = await reviewAlerts();
    expect(a).toMatchObject({ anchorDay: '2026-11-19', closedAt: null, reasons: [{ rule: 'R19', code: 'violations' }] });
    expect((await db.select().from(inbox).where(eq(inbox.alertId, a!.id))).map((i) => i.userId)).toEqual([doctor.id]);
    expect((await db.select().from(inbox).where(eq(inbox.userId, counsellor.id))).length).toBe(0);
    // Test results and incidents never leave the building.
    expect((await db.select().from(outbox).where(eq(outbox.alertId, a!.id))).length).toBe(0);
  });

  it('R19 a dose does not close the review; the doctor records it on the patient page; the same evidence is not flagged again, new evidence is', async () => {
    const { db, clock, clinic, doctor, nurse, p, client, test, reviewAlerts } = await setup();
    await test('2026-04-01', { opiates: 'positive', methadone: 'positive' });
    await test('2026-05-01', { opiates: 'positive', methadone: 'positive' });
    await closeDay({ db, clock }, clinic.id, '2026-11-22', null, ON);
    const [a] = await reviewAlerts();
    expect(a?.reasons).toEqual([{ rule: 'R19', code: 'opioid_positive' }]);
    await cover(db, p, '2026-11-24', { givenBy: nurse.id });
    expect((await reviewAlerts())[0]?.closedAt).toBeNull();

    const doc = await client(doctor.id);
    const page = await doc.get(`/patients/${p.id}`);
    expect(page.html).toContain(t.review_ground_opioid_positive);
    expect(page.html).toContain(`action="/followup/reviews/${a!.id}"`);
    // The note is required: the page comes back with the message.
    const empty = await doc.post(`/followup/reviews/${a!.id}`, { note: '  ' });
    expect(empty.res.status).toBe(422);
    expect(empty.html).toContain(t.err_review_done_note);
    expect((await reviewAlerts())[0]?.closedAt).toBeNull();
    const done = await doc.post(`/followup/reviews/${a!.id}`, { note: 'Tư vấn tăng cường, tiếp tục điều trị' });
    expect(done.res.status).toBe(303);
    const [closed] = await reviewAlerts();
    expect(closed).toMatchObject({ closedAs: 'reviewed', closedBy: doctor.id, closedNote: 'Tư vấn tăng cường, tiếp tục điều trị' });
    expect((await db.select().from(auditLog).where(and(eq(auditLog.action, 'termination_review'), eq(auditLog.entityId, a!.id)))).length).toBe(1);

    await closeDay({ db, clock }, clinic.id, '2026-11-23', null, ON);
    expect((await reviewAlerts()).length).toBe(1);
    await test('2026-11-23', { cannabis: 'positive' });
    await closeDay({ db, clock }, clinic.id, '2026-11-24', null, ON);
    const after = await reviewAlerts();
    expect(after.length).toBe(2);
    expect(after.find((x) => x.closedAt === null)).toMatchObject({ anchorDay: '2026-11-23', reasons: [{ rule: 'R19', code: 'opioid_positive' }, { rule: 'R19', code: 'other_drug' }] });
  });

  it('R19 only a doctor records the review; another clinic\'s alert answers 404', async () => {
    const { db, clock, clinic, nurse, counsellor, divert, client, reviewAlerts } = await setup();
    await divert('2026-10-01');
    await divert('2026-11-01');
    await closeDay({ db, clock }, clinic.id, '2026-11-23', null, ON);
    const [a] = await reviewAlerts();
    for (const u of [nurse, counsellor]) {
      const c = await client(u.id);
      expect((await c.post(`/followup/reviews/${a!.id}`, { note: 'x' })).res.status).toBe(403);
      expect((await c.get(`/patients/${a!.patientId}`)).html).not.toContain(`/followup/reviews/${a!.id}`);
    }
    const other = await makeClinic(db);
    const otherDoctor = await makeUser(db, 'doctor', [other.id]);
    expect((await (await client(otherDoctor.id)).post(`/followup/reviews/${a!.id}`, { note: 'x' })).res.status).toBe(404);
    expect((await reviewAlerts())[0]?.closedAt).toBeNull();
  });

  it('R19 evidence the doctor reviewed is not flagged again when a later ground lapses and an earlier one remains', async () => {
    const { db, clock, clinic, doctor, divert, test, reviewAlerts } = await setup();
    await test('2026-05-01', { cannabis: 'positive' });
    await divert('2026-06-01');
    await divert('2026-06-10');
    await closeDay({ db, clock }, clinic.id, '2026-06-10', null, ON);
    const [a] = await reviewAlerts();
    expect(a).toMatchObject({ anchorDay: '2026-06-10' });
    await db.update(alerts).set({ closedAt: new Date(), closedAs: 'reviewed', closedBy: doctor.id }).where(eq(alerts.id, a!.id));
    // By December the diversions are outside the 6-month window: only the May test remains, already reviewed.
    await closeDay({ db, clock }, clinic.id, '2026-12-20', null, ON);
    expect((await reviewAlerts()).length).toBe(1);
  });
});
