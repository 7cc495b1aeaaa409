// Synthetic patients at any scale, for the demo and the benchmarks: realistic
// Vietnamese names, birth dates, phones and addresses, an episode each, and an
// order in force. Deterministic for a seed, written in batches.
import { sql } from 'drizzle-orm';
import type { Db } from './client.ts';
import { pgArray, rows } from './sql.ts';
import { fold } from './fold.ts';
import { clinicCounters, doseOrders, doses, doseSlots, episodes, patients } from './schema.ts';

const FAMILY = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Phan', 'Vũ', 'Võ', 'Đặng', 'Bùi', 'Đỗ', 'Hồ', 'Ngô', 'Dương', 'Lý', 'Đinh', 'Trịnh', 'Đoàn', 'Lương'];
const MIDDLE_M = ['Văn', 'Hữu', 'Đức', 'Quốc', 'Minh', 'Thành', 'Công', 'Xuân', 'Đình', 'Ngọc'];
const MIDDLE_F = ['Thị', 'Ngọc', 'Thu', 'Thanh', 'Hồng', 'Minh'];
const GIVEN_M = ['An', 'Bình', 'Cường', 'Dũng', 'Đạt', 'Hải', 'Hùng', 'Huy', 'Khánh', 'Long', 'Mạnh', 'Nam', 'Phong', 'Quang', 'Sơn', 'Tài', 'Thắng', 'Toàn', 'Trung', 'Tuấn', 'Việt', 'Vinh'];
const GIVEN_F = ['Anh', 'Hà', 'Hạnh', 'Hoa', 'Hương', 'Lan', 'Linh', 'Mai', 'Nga', 'Ngọc', 'Phương', 'Thảo', 'Trang', 'Yến'];
const STREETS = ['Lạch Tray', 'Cầu Đất', 'Tô Hiệu', 'Lê Lợi', 'Trần Phú', 'Hai Bà Trưng', 'Lý Thường Kiệt', 'Nguyễn Đức Cảnh'];

/** The parts names are drawn from (the patient-search benchmark builds its queries from them). */
export const NAME_PARTS = { family: FAMILY, middleMale: MIDDLE_M, middleFemale: MIDDLE_F, givenMale: GIVEN_M, givenFemale: GIVEN_F } as const;

/** A small deterministic generator (LCG), so a seed gives the same people every time. */
export function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

export interface SyntheticOptions {
  clinics: { id: string; code: string }[];
  count: number;
  /** The service day of "today" (YYYY-MM-DD). */
  today: string;
  prescriberId: string;
  seed?: number;
  communes?: { code: number; provinceCode: number }[];
  /**
   * Days of dose history before today (0: none). Most patients were dosed
   * yesterday and came on ~93% of the days before; every tenth has a gap that
   * shows one of the counter's missed-day decisions (R11): 2, 3 or 6 days.
   */
  historyDays?: number;
  /** Who gave the history's doses (default: the prescriber). */
  giverId?: string;
  /** The counsellor assigned to every patient (default: none). */
  counsellorId?: string;
}

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/**
 * Synthetic rows are right by construction: their transaction skips the
 * row triggers (facts version, foreign keys, the slot's alert closing), which
 * would otherwise cost a round of work per dose — most of a demo's start-up.
 * Only for seeding a fresh database; never for records of care.
 */
async function withoutTriggers(tx: Db): Promise<void> {
  // Only a superuser may (PGlite's user is one; a production role usually is not: then the triggers just run).
  const [su] = await rows<{ on: boolean }>(tx, sql`select current_setting('is_superuser') = 'on' as on`);
  if (su?.on) await tx.execute(sql`set local session_replication_role = replica`);
}

/**
 * Derived rows the skipped triggers would have kept (coverage_spans) made
 * again from the slots just written, for these patients. Called whether or
 * not the triggers ran: the rebuild gives the same rows.
 */
export async function rebuildCoverage(tx: Db, patientIds: readonly string[] | null): Promise<void> {
  await tx.execute(patientIds === null ? sql`select mp_coverage_rebuild(null)` : sql`select mp_coverage_rebuild(${pgArray(patientIds)}::uuid[])`);
}

/** Writes `count` patients spread over the clinics; returns how many were written. */
export async function seedPatients(db: Db, o: SyntheticOptions): Promise<number> {
  const r = rng(o.seed ?? 1);
  // A stream of its own, so the people and histories drawn from `r` stay what they were.
  const referrals = rng((o.seed ?? 1) + 101);
  const next = new Map<string, number>();
  for (const c of o.clinics) {
    const [row] = await db
      .select({ n: sql<number>`coalesce(max(${clinicCounters.nextPatientNumber}), 0)` })
      .from(clinicCounters)
      .where(sql`${clinicCounters.clinicId} = ${c.id}`);
    next.set(c.id, Number(row?.n ?? 0));
  }
  const BATCH = 1000;
  for (let start = 0; start < o.count; start += BATCH) {
    const size = Math.min(BATCH, o.count - start);
    const people: (typeof patients.$inferInsert)[] = [];
    for (let i = 0; i < size; i++) {
      const clinic = o.clinics[(start + i) % o.clinics.length]!;
      const n = next.get(clinic.id)! + 1;
      next.set(clinic.id, n);
      const female = r.next() < 0.06; // most people in MMT in Vietnam are men
      const fullName = `${r.pick(FAMILY)} ${female ? r.pick(MIDDLE_F) : r.pick(MIDDLE_M)} ${female ? r.pick(GIVEN_F) : r.pick(GIVEN_M)}`;
      const phone = `09${r.int(10_000_000, 99_999_999)}`;
      const place = o.communes?.length ? r.pick(o.communes) : null;
      people.push({
        code: `${clinic.code}-${String(n).padStart(5, '0')}`,
        homeClinicId: clinic.id,
        fullName,
        searchName: fold(fullName),
        birthDate: `${r.int(1960, 2002)}-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}`,
        sex: female ? ('female' as const) : ('male' as const),
        phone,
        phoneDigits: phone,
        street: `${r.int(1, 300)} ${r.pick(STREETS)}`,
        provinceCode: place?.provinceCode ?? null,
        communeCode: place?.code ?? null,
        // Derived from what was drawn (not drawn themselves), so the rest of the data stays as before.
        nextOfKinName: `${fullName.split(' ')[0]} ${female ? 'Văn' : 'Thị'} ${female ? GIVEN_M[n % GIVEN_M.length] : GIVEN_F[n % GIVEN_F.length]}`,
        nextOfKinPhone: `09${phone.slice(2).split('').reverse().join('')}`,
        counsellorId: o.counsellorId ?? null,
      });
    }
    await db.transaction(async (tx) => {
      await withoutTriggers(tx);
      const inserted = await tx.insert(patients).values(people).returning({ id: patients.id });
      const eps = inserted.map((p, i) => ({ patientId: p.id, clinicId: people[i]!.homeClinicId, kind: 'first' as const, startDate: addDays(o.today, -r.int(7, 700)), referralSource: referrals.pick(REFERRAL_SOURCES) }));
      const epRows = await tx.insert(episodes).values(eps).returning({ id: episodes.id, patientId: episodes.patientId, startDate: episodes.startDate });
      const orderRows = await tx.insert(doseOrders).values(
        epRows.map((e) => ({
          patientId: e.patientId,
          episodeId: e.id,
          phase: 'maintenance' as const,
          startDate: addDays(o.today, -r.int(0, 20)) < e.startDate ? e.startDate : addDays(o.today, -r.int(0, 20)),
          endDate: addDays(o.today, r.int(5, 9)),
          dailyMg: r.int(4, 14) * 10,
          prescribedBy: o.prescriberId,
        })),
      ).returning({ id: doseOrders.id, episodeId: doseOrders.episodeId, startDate: doseOrders.startDate, dailyMg: doseOrders.dailyMg });
      if (o.historyDays) {
        const history: (typeof doses.$inferInsert)[] = [];
        epRows.forEach((e, i) => {
          const order = orderRows[i]!;
          const gap = [7, 8, 9].includes((start + i) % 10) ? { 7: 4, 8: 7, 9: 3 }[(start + i) % 10]! : 1;
          for (let back = gap; back <= o.historyDays!; back++) {
            const day = addDays(o.today, -back);
            if (day < e.startDate) break;
            if (back > gap && r.next() > 0.93) continue;
            history.push({
              patientId: e.patientId,
              episodeId: e.id,
              orderId: day >= order.startDate ? order.id : null,
              clinicId: people[i]!.homeClinicId,
              serviceDay: day,
              outcome: 'given',
              prescribedMg: order.dailyMg,
              givenMg: order.dailyMg,
              ml: order.dailyMg / 10,
              concentration: 10,
              givenBy: o.giverId ?? o.prescriberId,
              // Between 07:00 and 10:00 at UTC+7.
              at: new Date(Date.parse(`${day}T00:00:00Z`) + r.int(0, 180) * 60_000),
            });
          }
        });
        for (let k = 0; k < history.length; k += 2000) {
          const rows = await tx.insert(doses).values(history.slice(k, k + 2000)).returning({ id: doses.id, patientId: doses.patientId, serviceDay: doses.serviceDay });
          await tx.insert(doseSlots).values(rows.map((d) => ({ patientId: d.patientId, serviceDay: d.serviceDay, part: 1, doseId: d.id })));
        }
      }
      await rebuildCoverage(tx, inserted.map((p) => p.id));
    });
  }
  for (const [clinicId, n] of next) {
    await db
      .insert(clinicCounters)
      .values({ clinicId, nextPatientNumber: n })
      .onConflictDoUpdate({ target: clinicCounters.clinicId, set: { nextPatientNumber: n } });
  }
  return o.count;
}

/** Where patients come from, as clinics write it on the enrolment form. */
export const REFERRAL_SOURCES = ['Tự đến', 'Công an phường', 'Trung tâm y tế', 'Đồng đẳng viên'] as const;

export interface HistoryOptions {
  /** The facility first, then a satellite point of it. */
  clinics: [{ id: string; code: string }, { id: string; code: string }];
  count: number;
  today: string;
  giverId: string;
  seed?: number;
}

/**
 * Patients whose treatment is over, so the reports have a past to show: over
 * the two years before `today`, runs that ended by dropout (a gap of 30 days
 * and more, then the episode ended), death, transfer out of the programme,
 * completed taper, re-enrolment after a dropout then custody, and a transfer
 * from the facility to its satellite point (one run) that ended in dropout.
 * Nobody here is in treatment today. Deterministic for a seed.
 */
export async function seedProgrammeHistory(db: Db, o: HistoryOptions): Promise<number> {
  const r = rng(o.seed ?? 7);
  const [facility, satellite] = o.clinics;
  const next = new Map<string, number>();
  for (const c of o.clinics) {
    const [row] = await db.select({ n: sql<number>`coalesce(max(${clinicCounters.nextPatientNumber}), 0)` }).from(clinicCounters).where(sql`${clinicCounters.clinicId} = ${c.id}`);
    next.set(c.id, Number(row?.n ?? 0));
  }
  await db.transaction(async (tx) => {
    await withoutTriggers(tx);
    const seeded: string[] = [];
    for (let i = 0; i < o.count; i++) {
      const home = i % 2 === 0 ? facility : satellite;
      const n = next.get(home.id)! + 1;
      next.set(home.id, n);
      const female = r.next() < 0.08;
      const fullName = `${r.pick(FAMILY)} ${female ? r.pick(MIDDLE_F) : r.pick(MIDDLE_M)} ${female ? r.pick(GIVEN_F) : r.pick(GIVEN_M)}`;
      const phone = `09${r.int(10_000_000, 99_999_999)}`;
      const [p] = await tx
        .insert(patients)
        .values({
          code: `${home.code}-${String(n).padStart(5, '0')}`,
          homeClinicId: home.id,
          fullName,
          searchName: fold(fullName),
          birthDate: `${r.int(1962, 2000)}-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}`,
          sex: female ? 'female' : 'male',
          phone,
          phoneDigits: phone,
        })
        .returning({ id: patients.id });
      seeded.push(p!.id);
      const mg = r.int(5, 12) * 10;
      const referral = r.pick(REFERRAL_SOURCES);
      /** An episode with its covered days: attends about 92% of the days of [from, from + days). Returns the last covered day. */
      const episode = async (e: { clinicId: string; kind: 'first' | 're_enrolment' | 'transfer_in'; from: string; days: number; fromId?: string }) => {
        const [ep] = await tx
          .insert(episodes)
          .values({ patientId: p!.id, clinicId: e.clinicId, kind: e.kind, startDate: e.from, referralSource: e.kind === 'transfer_in' ? '' : referral, transferredFromId: e.fromId ?? null })
          .returning({ id: episodes.id });
        const rows: (typeof doses.$inferInsert)[] = [];
        let last = e.from;
        for (let k = 0; k < e.days; k++) {
          const day = addDays(e.from, k);
          if (k > 0 && k < e.days - 1 && r.next() > 0.92) continue;
          last = day;
          rows.push({ patientId: p!.id, episodeId: ep!.id, clinicId: e.clinicId, serviceDay: day, outcome: 'given', prescribedMg: mg, givenMg: mg, ml: mg / 10, concentration: 10, givenBy: o.giverId, at: new Date(Date.parse(`${day}T01:00:00Z`) + r.int(0, 240) * 60_000) });
        }
        for (let k = 0; k < rows.length; k += 1000) {
          const ids = await tx.insert(doses).values(rows.slice(k, k + 1000)).returning({ id: doses.id, serviceDay: doses.serviceDay });
          await tx.insert(doseSlots).values(ids.map((d) => ({ patientId: p!.id, serviceDay: d.serviceDay, part: 1, doseId: d.id })));
        }
        return { id: ep!.id, last };
      };
      const end = (id: string, endDate: string, endReason: 'dropped_out' | 'deceased' | 'transferred_out' | 'completed_taper' | 'incarcerated') =>
        tx.update(episodes).set({ endDate, endReason }).where(sql`${episodes.id} = ${id}`);
      // Starts spread over the two years, early enough to end before today.
      const start = addDays(o.today, -r.int(330, 720));
      const days = r.int(40, 280);
      switch (i % 6) {
        case 0: {
          const e = await episode({ clinicId: home.id, kind: 'first', from: start, days });
          await end(e.id, addDays(e.last, 30 + r.int(0, 10)), 'dropped_out');
          break;
        }
        case 1: {
          const e = await episode({ clinicId: home.id, kind: 'first', from: start, days });
          await end(e.id, addDays(e.last, r.int(1, 5)), 'deceased');
          break;
        }
        case 2: {
          const e = await episode({ clinicId: home.id, kind: 'first', from: start, days });
          await end(e.id, addDays(e.last, 1), 'transferred_out');
          break;
        }
        case 3: {
          const e = await episode({ clinicId: home.id, kind: 'first', from: start, days: r.int(250, 320) });
          await end(e.id, addDays(e.last, 1), 'completed_taper');
          break;
        }
        case 4: {
          const a = await episode({ clinicId: home.id, kind: 'first', from: start, days: r.int(30, 120) });
          const endA = addDays(a.last, 30 + r.int(0, 5));
          await end(a.id, endA, 'dropped_out');
          const b = await episode({ clinicId: home.id, kind: 're_enrolment', from: addDays(endA, r.int(20, 60)), days: r.int(40, 120) });
          await end(b.id, addDays(b.last, 2), 'incarcerated');
          break;
        }
        default: {
          const a = await episode({ clinicId: facility.id, kind: 'first', from: start, days: r.int(60, 150) });
          const moved = addDays(a.last, 1);
          await end(a.id, moved, 'transferred_out');
          const b = await episode({ clinicId: satellite.id, kind: 'transfer_in', from: moved, days: r.int(30, 120), fromId: a.id });
          await end(b.id, addDays(b.last, 30 + r.int(0, 7)), 'dropped_out');
        }
      }
    }
    await rebuildCoverage(tx, seeded);
  });
  for (const [clinicId, n] of next) {
    await db.insert(clinicCounters).values({ clinicId, nextPatientNumber: n }).onConflictDoUpdate({ target: clinicCounters.clinicId, set: { nextPatientNumber: n } });
  }
  return o.count;
}
