// The counsellor's list counts R11 live, from the slots: which day it is
// counted as of (today once the clinic's day is closed, else yesterday), and
// that a covered day from then through today takes the patient off while
// one after today (a take-home ahead) does not. Each clinic counts on its
// own service day. A table of cases, on both databases.
import { expect, it } from 'vitest';
import { FixedClock, serviceDay } from '../../server/clock.ts';
import { addDays } from '../../server/dosing/days.ts';
import { closeDay } from '../../server/services/day-close.ts';
import { missedList } from '../../server/services/follow-up.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';
import { addPatient, cover } from '../helpers/follow-up.ts';

/** 09:00 in Hồ Chí Minh City on Wednesday 11 March 2026: the counsellor's morning. */
const MORNING = new Date('2026-03-11T02:00:00Z');
const TODAY = '2026-03-11';
const on = (n: number) => addDays(TODAY, n);

interface Case {
  name: string;
  /** The episode's first day, from today. */
  start: number;
  /** Covered days (a dose and its slot), from today. */
  covered: number[];
  /** Today closed before the list is read (a manager's "close now"). */
  todayClosed?: boolean;
  /** Off the list, or on it with R11's missed days and the last covered day shown. */
  listed: null | { missed: number; lastCovered: number | null };
}

const CASES: Case[] = [
  { name: 'R11 came this morning: off the list', start: -10, covered: [-3, -2, -1, 0], listed: null },
  { name: 'R11 came yesterday, not yet today, the day still open: off (counted as of yesterday)', start: -10, covered: [-3, -2, -1], listed: null },
  { name: 'R11 missed yesterday: on the list with one day', start: -10, covered: [-3, -2], listed: { missed: 1, lastCovered: -2 } },
  { name: 'R11 missed yesterday and came this morning: off', start: -10, covered: [-3, -2, 0], listed: null },
  { name: 'R11 R14 a take-home day after today does not hide the missed days before it', start: -10, covered: [-4, -3, 1], listed: { missed: 2, lastCovered: -3 } },
  { name: 'R11 five days missed: the count runs from the last covered day', start: -10, covered: [-6], listed: { missed: 5, lastCovered: -6 } },
  { name: 'R11 never covered since the episode began three days ago: counted from its start', start: -3, covered: [], listed: { missed: 3, lastCovered: null } },
  { name: 'R11 an episode that begins today: nothing missed yet', start: 0, covered: [], listed: null },
  { name: 'R11 today closed, covered yesterday but not today: on with one day', start: -10, covered: [-2, -1], todayClosed: true, listed: { missed: 1, lastCovered: -1 } },
  { name: 'R11 today closed and covered today: off', start: -10, covered: [-1, 0], todayClosed: true, listed: null },
  { name: 'R11 today closed, a take-home for tomorrow given yesterday: covered today, off', start: -10, covered: [-1, 0, 1], todayClosed: true, listed: null },
];

describeEachDatabase('missed list: the day counted', (get) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { db } = get();
    const clinic = await makeClinic(db);
    const nurse = await makeUser(db, 'nurse', [clinic.id]);
    // A patient of another clinic with the same history is never on this clinic's list.
    const other = await makeClinic(db);
    const p = await addPatient(db, { clinicId: clinic.id, startDate: on(c.start) });
    const q = await addPatient(db, { clinicId: other.id, startDate: on(c.start) });
    for (const n of c.covered) {
      await cover(db, p, on(n), { givenBy: nurse.id });
      await cover(db, q, on(n), { givenBy: nurse.id });
    }
    const clock = new FixedClock(MORNING);
    expect(serviceDay(clock.now(), 'Asia/Ho_Chi_Minh')).toBe(TODAY);
    if (c.todayClosed) expect(await closeDay({ db, clock }, clinic.id, TODAY, null, { email: false, webhook: false })).not.toBeNull();

    const list = await missedList(db, clock.now(), [clinic.id]);
    expect(list.map((r) => r.patientId)).toEqual(c.listed ? [p.id] : []);
    if (c.listed) {
      expect(list[0]).toMatchObject({
        missed: c.listed.missed,
        lastCovered: c.listed.lastCovered === null ? null : on(c.listed.lastCovered),
        asOf: c.todayClosed ? TODAY : on(-1),
      });
    }
  });

  it('R11 each clinic counts on its own service day: a list over Hồ Chí Minh City and London read while London is still on the day before', async () => {
    const { db } = get();
    const hcm = await makeClinic(db);
    const lon = await makeClinic(db, { timeZone: 'Europe/London' });
    const nurse = await makeUser(db, 'nurse', [hcm.id, lon.id]);
    // 20:00 in London on 10 March is 03:00 on 11 March in Hồ Chí Minh City.
    const clock = new FixedClock(new Date('2026-03-10T20:00:00Z'));
    expect([serviceDay(clock.now(), 'Asia/Ho_Chi_Minh'), serviceDay(clock.now(), 'Europe/London')]).toEqual(['2026-03-11', '2026-03-10']);
    const patient = async (clinicId: string, covered: string[]) => {
      const p = await addPatient(db, { clinicId, startDate: '2026-03-01' });
      for (const d of covered) await cover(db, p, d, { givenBy: nurse.id });
      return p;
    };
    // Covered on 10 March: Hồ Chí Minh City's yesterday (off), London's today (off).
    const hcmCame = await patient(hcm.id, ['2026-03-09', '2026-03-10']);
    const lonCame = await patient(lon.id, ['2026-03-09', '2026-03-10']);
    // Covered through 9 March: Hồ Chí Minh City's day before yesterday (one day missed), London's yesterday (off).
    const hcmMissed = await patient(hcm.id, ['2026-03-08', '2026-03-09']);
    const lonYesterday = await patient(lon.id, ['2026-03-08', '2026-03-09']);
    // Covered through 8 March: missed in both (London: one day, 9 March).
    const lonMissed = await patient(lon.id, ['2026-03-07', '2026-03-08']);

    const list = await missedList(db, clock.now(), [hcm.id, lon.id]);
    const got = Object.fromEntries(list.map((r) => [r.patientId, { missed: r.missed, asOf: r.asOf }]));
    expect(got).toEqual({
      [hcmMissed.id]: { missed: 1, asOf: '2026-03-10' },
      [lonMissed.id]: { missed: 1, asOf: '2026-03-09' },
    });
    for (const p of [hcmCame, lonCame, lonYesterday]) expect(got[p.id]).toBeUndefined();
  });
});
