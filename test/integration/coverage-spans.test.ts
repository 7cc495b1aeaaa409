// coverage_spans, the chains of covered days the retention reports read (R18:
// 30 consecutive uncovered days end a run), kept by the triggers on
// dose_slots in the slot's own transaction. Every case compares the table
// with the chains worked out here from the slots that stand, and with
// mp_coverage_rebuild's; both databases.
import fc from 'fast-check';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { coverageSpans, doses, doseSlots } from '../../db/schema.ts';
import { rows } from '../../db/sql.ts';
import { rebuildCoverage } from '../../db/synthetic.ts';
import { addDays } from '../../server/dosing/days.ts';
import { DROPOUT_GAP } from '../../server/services/retention.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';
import { addPatient, cover, type TestPatient } from '../helpers/follow-up.ts';

const START = '2026-01-05';
const day = (n: number) => addDays(START, n);

/** The chains of covered day numbers: a new one where the next covered day is more than 30 after the last (R18). */
function chainsOf(covered: readonly number[]): [number, number][] {
  const days = [...new Set(covered)].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const d of days) {
    const last = out.at(-1);
    if (last && d - last[1] <= DROPOUT_GAP) last[1] = d;
    else out.push([d, d]);
  }
  return out;
}

const asDays = (chains: [number, number][]) => chains.map(([a, b]) => ({ fromDay: day(a), toDay: day(b) }));

async function spansOf(db: Db, patientId: string) {
  return db.select({ fromDay: coverageSpans.fromDay, toDay: coverageSpans.toDay }).from(coverageSpans).where(eq(coverageSpans.patientId, patientId)).orderBy(asc(coverageSpans.fromDay));
}

/** Releases the slots of `days` (as a void or a failed pump does: the slot row goes, the dose record stays). */
async function release(db: Db, p: TestPatient, days: number[]) {
  await db.delete(doseSlots).where(and(eq(doseSlots.patientId, p.id), inArray(doseSlots.serviceDay, days.map(day))));
}

describeEachDatabase('coverage spans follow the dose slots (R18)', (get) => {
  let clinicId = '';
  let nurseId = '';
  beforeAll(async () => {
    const { db } = get();
    clinicId = (await makeClinic(db)).id;
    nurseId = (await makeUser(db, 'nurse', [clinicId])).id;
  });
  const patient = () => addPatient(get().db, { clinicId, startDate: START });
  const coverDays = async (p: TestPatient, days: number[]) => {
    for (const d of days) await cover(get().db, p, day(d), { givenBy: nurseId });
  };

  // [days covered in this order, days then released, the chains expected]
  const cases: [string, number[], number[], [number, number][]][] = [
    ['R18 daily doses are one chain', [0, 1, 2, 3], [], [[0, 3]]],
    ['R18 29 uncovered days keep the chain (next covered day is day 30)', [0, 30], [], [[0, 30]]],
    ['R18 30 uncovered days break it (next covered day is day 31)', [0, 31], [], [[0, 0], [31, 31]]],
    ['R18 a late entry in the gap bridges two chains', [0, 1, 50, 51, 25], [], [[0, 51]]],
    ['R18 a late entry before the first chain extends it backwards', [40, 41, 12], [], [[12, 41]]],
    ['R18 a late entry far before starts a chain of its own', [80, 81, 10], [], [[10, 10], [80, 81]]],
    ['R18 a day inside a chain changes nothing', [0, 10, 5], [], [[0, 10]]],
    ['R18 releasing the bridge splits the chain again', [0, 25, 50], [25], [[0, 0], [50, 50]]],
    ['R18 releasing the last day shortens the chain', [0, 1, 2], [2], [[0, 1]]],
    ['R18 releasing every day leaves no chain', [3, 4], [3, 4], []],
  ];
  for (const [name, covered, released, expected] of cases) {
    it(name, async () => {
      const { db } = get();
      const p = await patient();
      await coverDays(p, covered);
      await release(db, p, released);
      expect(await spansOf(db, p.id)).toEqual(asDays(expected));
      expect(chainsOf(covered.filter((d) => !released.includes(d)))).toEqual(expected);
    });
  }

  it('R18 a split dose (part 2 on a covered day) adds no chain', async () => {
    const { db } = get();
    const p = await patient();
    await coverDays(p, [0, 40]);
    const [second] = await db
      .insert(doses)
      .values({ patientId: p.id, episodeId: p.episodeId, clinicId, serviceDay: day(40), part: 2, outcome: 'given', prescribedMg: 30, givenMg: 30, ml: 3, concentration: 10, givenBy: nurseId, at: new Date(`${day(40)}T08:00:00Z`) })
      .returning({ id: doses.id });
    await db.insert(doseSlots).values({ patientId: p.id, serviceDay: day(40), part: 2, doseId: second!.id });
    expect(await spansOf(db, p.id)).toEqual(asDays([[0, 0], [40, 40]]));
    await db.delete(doseSlots).where(eq(doseSlots.doseId, second!.id));
    expect(await spansOf(db, p.id)).toEqual(asDays([[0, 0], [40, 40]]));
  });

  it('R18 random covering and releasing leave the chains of what stands, as the rebuild makes them', async () => {
    const { db } = get();
    const op = fc.oneof({ weight: 3, arbitrary: fc.record({ cover: fc.integer({ min: 0, max: 120 }) }) }, { weight: 1, arbitrary: fc.record({ release: fc.nat() }) });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const p = await patient();
        const standing: number[] = [];
        for (const o of ops) {
          if ('cover' in o) {
            if (standing.includes(o.cover)) continue;
            await coverDays(p, [o.cover]);
            standing.push(o.cover);
          } else if (standing.length > 0) {
            const [d] = standing.splice(o.release % standing.length, 1);
            await release(db, p, [d!]);
          }
        }
        const kept = await spansOf(db, p.id);
        expect(kept).toEqual(asDays(chainsOf(standing)));
        await db.transaction((tx) => rebuildCoverage(tx, [p.id]));
        expect(await spansOf(db, p.id)).toEqual(kept);
      }),
      { numRuns: 25 },
    );
  });

  it('R18 one patient dosed on many days by several connections at once: one chain, none lost', async () => {
    const { db } = get();
    const p = await patient();
    // Every other day first, then the days between, all at once: each insert may merge chains another is merging.
    const days = [...Array.from({ length: 20 }, (_, i) => i * 2), ...Array.from({ length: 20 }, (_, i) => i * 2 + 1)];
    await Promise.all(days.map((d) => cover(db, p, day(d * 3), { givenBy: nurseId })));
    expect(await spansOf(db, p.id)).toEqual(asDays([[0, 39 * 3]]));
    const [n] = await rows<{ n: number }>(db, sql`select count(*)::int as n from coverage_spans where patient_id = ${p.id}::uuid`);
    expect(n?.n).toBe(1);
  });
});
