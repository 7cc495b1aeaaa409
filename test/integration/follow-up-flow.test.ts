import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { alerts, dayCloses, episodes, inbox, outbox, users } from '../../db/schema.ts';
import { FixedClock } from '../../server/clock.ts';
import { closeDay, closeDueDays } from '../../server/services/day-close.ts';
import { logContact, missedList, ruleOnDropout, dropoutProposals, unreadCount } from '../../server/services/follow-up.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';
import { addPatient, cover } from '../helpers/follow-up.ts';

// One patient's path through follow-up: the day close raises alerts for the
// counsellor and the manager, the list orders them, a custody contact puts
// one on hold, the manager confirms the dropout, a return closes the rest,
// and a catch-up closes the days the server missed.
describeEachDatabase('follow-up from day close to return', (get) => {
  it('R17 R18: alerts raised, listed, held, ruled on and closed by the return', async () => {
    const { db } = get();
    const clock = new FixedClock(new Date('2026-11-23T11:00:00Z'));
    const c = await makeClinic(db);
    const couns = await makeUser(db, 'counsellor', [c.id]);
    const manager = await makeUser(db, 'manager', [c.id]);
    await db.update(users).set({ email: 'a@b.c', notifyEmail: true }).where(eq(users.id, couns.id));
    const nurse = await makeUser(db, 'nurse', [c.id]);
    const p = await addPatient(db, { clinicId: c.id, startDate: '2026-11-01', counsellorId: couns.id });
    const q = await addPatient(db, { clinicId: c.id, startDate: '2026-09-01' });
    await cover(db, q, '2026-10-01', { givenBy: nurse.id });
    await cover(db, p, '2026-11-19', { givenBy: nurse.id });
    const r = await closeDay({ db, clock }, c.id, '2026-11-23', null, { email: true, webhook: false });
    expect(r).toMatchObject({ patients: 2, raised: { missed: 2, counsellor: 2, doctor: 1, dropout: 1 } });
    expect(await closeDay({ db, clock }, c.id, '2026-11-23', null, { email: true, webhook: false })).toBeNull();
    expect(await unreadCount(db, couns.id)).toBe(4);
    expect(await unreadCount(db, manager.id)).toBe(1);
    expect((await db.select().from(outbox)).length).toBe(4);
    const list = await missedList(db, clock.now(), [c.id]);
    expect(list.map((x) => [x.code, x.missed, x.bucket, x.alertLevel])).toEqual([[q.code, 53, 'd14', 'dropout'], [p.code, 4, 'd2_4', 'counsellor']]);
    await logContact({ db, clock }, { userId: couns.id, address: null }, { patientId: q.id, method: 'phone', outcome: 'custody', holdUntil: '2026-12-20', returnDate: null, nextActionDate: null, note: 'x' }, [c.id]);
    const list2 = await missedList(db, clock.now(), [c.id]);
    expect(list2.map((x) => x.code)).toEqual([p.code, q.code]);
    expect(list2[1]!.onHoldUntil).toBe('2026-12-20');
    const props = await dropoutProposals(db, [c.id]);
    expect(props.length).toBe(1);
    await ruleOnDropout({ db, clock }, { userId: manager.id, address: null }, props[0]!.alert_id, true, '', [c.id]);
    const [ep] = await db.select().from(episodes).where(eq(episodes.id, q.episodeId));
    expect(ep).toMatchObject({ endReason: 'dropped_out', endDate: '2026-11-23' });
    await cover(db, p, '2026-11-24', { givenBy: nurse.id });
    const open = await db.select().from(alerts);
    expect(open.every((a) => a.closedAs !== null)).toBe(true);
    const all = await closeDueDays({ db, clock: new FixedClock(new Date('2026-11-26T11:00:00Z')) }, { email: true, webhook: false });
    expect(all.map((x) => x.serviceDay)).toEqual(['2026-11-24', '2026-11-25', '2026-11-26']);
    expect((await db.select().from(dayCloses)).length).toBe(4);
  });

  it('R17 a catch-up counts a hold only from the day its contact was logged', async () => {
    const { db } = get();
    const c = await makeClinic(db);
    const couns = await makeUser(db, 'counsellor', [c.id]);
    const nurse = await makeUser(db, 'nurse', [c.id]);
    const p = await addPatient(db, { clinicId: c.id, startDate: '2026-10-01', counsellorId: couns.id });
    await cover(db, p, '2026-11-08', { givenBy: nurse.id });
    // Logged on the 13th (local): in hospital until the 30th. The server was off after the 10th.
    const clock = new FixedClock(new Date('2026-11-13T03:00:00Z'));
    await logContact({ db, clock }, { userId: couns.id, address: null }, { patientId: p.id, method: 'phone', outcome: 'hospital', holdUntil: '2026-11-30', returnDate: null, nextActionDate: null, note: '' }, [c.id]);
    await closeDay({ db, clock }, c.id, '2026-11-10', null, { email: false, webhook: false });
    clock.set('2026-11-16T11:00:00Z');
    const closed = await closeDueDays({ db, clock }, { email: false, webhook: false });
    expect(closed.map((r) => r.serviceDay)).toEqual(['2026-11-11', '2026-11-12', '2026-11-13', '2026-11-14', '2026-11-15', '2026-11-16']);
    // The 11th escalated as it would have on time (3 days: counsellor); from the 13th the hold pauses it (no 'doctor' at 5 days).
    const raised = (await db.select().from(alerts).where(eq(alerts.patientId, p.id))).map((a) => [a.level, a.raisedDay]);
    expect(raised.sort()).toEqual([['counsellor', '2026-11-11'], ['missed', '2026-11-10']]);
  });

  it('R17 a satellite point with its own counsellor: she is told, not the facility\'s; without one, the facility\'s counsellor is', async () => {
    const { db } = get();
    const clock = new FixedClock(new Date('2026-11-23T11:00:00Z'));
    const facility = await makeClinic(db);
    const staffed = await makeClinic(db, { kind: 'satellite', parentId: facility.id });
    const unstaffed = await makeClinic(db, { kind: 'satellite', parentId: facility.id });
    const atFacility = await makeUser(db, 'counsellor', [facility.id]);
    const atPoint = await makeUser(db, 'counsellor', [staffed.id]);
    const nurse = await makeUser(db, 'nurse', [facility.id]);
    for (const clinic of [staffed, unstaffed]) {
      const p = await addPatient(db, { clinicId: clinic.id, startDate: '2026-11-01' });
      await cover(db, p, '2026-11-18', { givenBy: nurse.id });
      await closeDay({ db, clock }, clinic.id, '2026-11-23', null, { email: false, webhook: false });
    }
    const toldAbout = async (userId: string) =>
      [...new Set((await db.select({ clinicId: alerts.clinicId }).from(inbox).innerJoin(alerts, eq(alerts.id, inbox.alertId)).where(eq(inbox.userId, userId))).map((r) => r.clinicId))];
    expect(await toldAbout(atPoint.id)).toEqual([staffed.id]);
    expect(await toldAbout(atFacility.id)).toEqual([unstaffed.id]);
  });
});
