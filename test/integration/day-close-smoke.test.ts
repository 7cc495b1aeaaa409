import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { alerts, dayCloses, inbox, outbox, users } from '../../db/schema.ts';
import { FixedClock } from '../../server/clock.ts';
import { closeDay, closeDueDays } from '../../server/services/day-close.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';
import { addPatient, cover } from '../helpers/follow-up.ts';

describeEachDatabase('day close smoke', (get) => {
  it('raises and closes', async () => {
    const { db } = get();
    const clock = new FixedClock(new Date('2026-11-23T11:00:00Z'));
    const c = await makeClinic(db);
    const couns = await makeUser(db, 'counsellor', [c.id]);
    await db.update(users).set({ email: 'a@b.c', notifyEmail: true }).where(eq(users.id, couns.id));
    const nurse = await makeUser(db, 'nurse', [c.id]);
    const p = await addPatient(db, { clinicId: c.id, startDate: '2026-11-01', counsellorId: couns.id });
    await cover(db, p, '2026-11-19', { givenBy: nurse.id });
    const r = await closeDay({ db, clock }, c.id, '2026-11-23', null, { email: true, webhook: false });
    expect(r).toMatchObject({ patients: 1, raised: { missed: 1, counsellor: 1, doctor: 0, dropout: 0 } });
    expect(await closeDay({ db, clock }, c.id, '2026-11-23', null, { email: true, webhook: false })).toBeNull();
    expect((await db.select().from(inbox)).length).toBe(1);
    expect((await db.select().from(outbox)).length).toBe(1);
    await cover(db, p, '2026-11-24', { givenBy: nurse.id });
    const open = await db.select().from(alerts);
    expect(open.every((a) => a.closedAs === 'returned')).toBe(true);
    const all = await closeDueDays({ db, clock: new FixedClock(new Date('2026-11-26T11:00:00Z')) }, { email: true, webhook: false });
    expect(all.map((x) => x.serviceDay)).toEqual(['2026-11-24', '2026-11-25', '2026-11-26']);
    expect((await db.select().from(dayCloses)).length).toBe(4);
  });
});
