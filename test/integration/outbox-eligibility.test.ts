// Who may still receive a message when the worker gets to it: a message is
// cancelled, not sent, when its alert has closed (even after a failed
// attempt), when its recipient's account is disabled, the channel turned off,
// or the recipient no longer works at the patient's clinic. The channel here
// records what it is given; the database is real.
import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { outbox, outboxAttempts, userClinics, users } from '../../db/schema.ts';
import { FixedClock } from '../../server/clock.ts';
import { deliverDue, DeliveryError, type AlertMessage, type Channel } from '../../server/jobs/outbox.ts';
import { closeDay } from '../../server/services/day-close.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';
import { addPatient, cover } from '../helpers/follow-up.ts';

const POLICY = { batch: 50, retryBaseMs: 1000, retryMaxMs: 60_000, maxAttempts: 5, claimMs: 30_000 };

describeEachDatabase('the outbox sends only to whom it still concerns', (get) => {
  async function setup() {
    const { db } = get();
    const clock = new FixedClock(new Date('2026-11-23T11:00:00Z'));
    const clinic = await makeClinic(db);
    const nurse = await makeUser(db, 'nurse', [clinic.id]);
    const couns = await makeUser(db, 'counsellor', [clinic.id]);
    await db.update(users).set({ email: 'lan@example.vn', notifyEmail: true }).where(eq(users.id, couns.id));
    const p = await addPatient(db, { clinicId: clinic.id, startDate: '2026-11-01', counsellorId: couns.id });
    await cover(db, p, '2026-11-19', { givenBy: nurse.id });
    await closeDay({ db, clock }, clinic.id, '2026-11-23', null, { email: true, webhook: false });
    const sent: AlertMessage[] = [];
    let failing = false;
    const channel: Channel = {
      async send(m) {
        if (failing) throw new DeliveryError('SMTP 451');
        sent.push(m);
        return '250 OK';
      },
    };
    const pass = () => deliverDue({ db, clock }, { email: channel }, POLICY);
    const state = async () => (await db.select().from(outbox)).filter((o) => o.userId === couns.id).map((o) => o.status);
    return { db, clock, clinic, nurse, couns, p, sent, pass, state, fail: (on: boolean) => (failing = on) };
  }

  it('R17 an alert that closes after a failed attempt: the retry is cancelled, nothing sent', async () => {
    const w = await setup();
    w.fail(true);
    expect((await w.pass()).retried).toBe(1);
    await cover(w.db, w.p, '2026-11-24', { givenBy: w.nurse.id });
    w.fail(false);
    w.clock.advance(1000);
    expect(await w.pass()).toMatchObject({ delivered: 0, cancelled: 1 });
    expect(w.sent).toEqual([]);
    expect(await w.state()).toEqual(['cancelled']);
    const log = await w.db.select().from(outboxAttempts);
    expect(log.map((a) => a.detail)).toEqual(['SMTP 451', 'alert closed before delivery']);
  });

  it.each([
    ['the account is disabled', (w: Awaited<ReturnType<typeof setup>>) => w.db.update(users).set({ active: false }).where(eq(users.id, w.couns.id))],
    ['e-mail is turned off', (w: Awaited<ReturnType<typeof setup>>) => w.db.update(users).set({ notifyEmail: false }).where(eq(users.id, w.couns.id))],
    ['the counsellor no longer works at the clinic', (w: Awaited<ReturnType<typeof setup>>) => w.db.delete(userClinics).where(eq(userClinics.userId, w.couns.id))],
  ])('a message whose recipient may no longer receive it is cancelled: %s', async (_name, change) => {
    const w = await setup();
    await change(w);
    expect(await w.pass()).toMatchObject({ delivered: 0, cancelled: 1 });
    expect(w.sent).toEqual([]);
    expect(await w.state()).toEqual(['cancelled']);
  });

  it('a recipient who still qualifies gets it, once', async () => {
    const w = await setup();
    expect(await w.pass()).toMatchObject({ delivered: 1, cancelled: 0 });
    expect(await w.pass()).toMatchObject({ delivered: 0 });
    expect(w.sent.map((m) => m.recipient.email)).toEqual(['lan@example.vn']);
  });
});
