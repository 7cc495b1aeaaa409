// Patients: registration with a programme code, search, duplicates, photos.
import { and, desc, eq, ilike, inArray, like, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { rows } from '../../db/sql.ts';
import { fold } from '../../db/fold.ts';
import { clinicCounters, clinics, communes, patientPhotos, patients, userClinics, users, type Sex } from '../../db/schema.ts';
import { Invalid, NotFound, isUniqueViolation, type FieldErrors } from '../errors.ts';
import { audit } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';
import { digits, type PatientFields } from './patient-schema.ts';

export type Patient = typeof patients.$inferSelect;

export interface PatientInput extends PatientFields {
  homeClinicId: string;
  counsellorId: string | null;
}

/** Largest photo accepted: the browser shrinks it to about 30–60 KB first. */
export const MAX_PHOTO_BYTES = 256 * 1024;

/** The documented code format: clinic code, a dash, the clinic's running number (5 digits). */
export function patientCode(clinicCode: string, n: number): string {
  return `${clinicCode}-${String(n).padStart(5, '0')}`;
}

export function checkPhoto(bytes: Uint8Array): 'err_photo_type' | 'err_photo_size' | null {
  // JPEG: starts with FF D8 FF and ends with FF D9.
  const isJpeg = bytes.length > 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff && bytes[bytes.length - 2] === 0xff && bytes[bytes.length - 1] === 0xd9;
  if (!isJpeg) return 'err_photo_type';
  if (bytes.length > MAX_PHOTO_BYTES) return 'err_photo_size';
  return null;
}

/** Checks that depend on the database: the place, the clinic, the counsellor. */
async function checkReferences(db: Db, input: PatientInput, scope: string[] | null): Promise<void> {
  const errors: FieldErrors = {};
  if (scope && !scope.includes(input.homeClinicId)) errors.homeClinicId = 'err_choose';
  if (input.communeCode !== null) {
    const [c] = await db.select({ provinceCode: communes.provinceCode }).from(communes).where(eq(communes.code, input.communeCode));
    if (!c) errors.communeCode = 'err_choose';
    else if (input.provinceCode !== null && c.provinceCode !== input.provinceCode) errors.communeCode = 'err_commune_not_in_province';
  }
  if (input.counsellorId) {
    const [c] = await db
      .select({ id: users.id })
      .from(users)
      .innerJoin(userClinics, eq(userClinics.userId, users.id))
      .where(and(eq(users.id, input.counsellorId), eq(users.role, 'counsellor'), eq(users.active, true), eq(userClinics.clinicId, input.homeClinicId)));
    if (!c) errors.counsellorId = 'err_counsellor';
  }
  if (Object.keys(errors).length) throw new Invalid(errors);
}

/**
 * The next `n` codes of a clinic, inside the caller's transaction. One counter
 * row per clinic, moved forward by n under its row lock: concurrent
 * registrations get distinct numbers, and a number is never issued twice.
 */
export async function allocatePatientCodes(tx: Db, clinicId: string, n: number): Promise<string[]> {
  const [clinic] = await tx.select({ code: clinics.code }).from(clinics).where(eq(clinics.id, clinicId));
  if (!clinic) throw new Invalid({ homeClinicId: 'err_choose' });
  const [counter] = await tx
    .insert(clinicCounters)
    .values({ clinicId, nextPatientNumber: n })
    .onConflictDoUpdate({ target: clinicCounters.clinicId, set: { nextPatientNumber: sql`${clinicCounters.nextPatientNumber} + ${n}` } })
    .returning({ last: clinicCounters.nextPatientNumber });
  const last = counter!.last;
  return Array.from({ length: n }, (_, i) => patientCode(clinic.code, last - n + 1 + i));
}

export async function allocatePatientCode(tx: Db, clinicId: string): Promise<string> {
  return (await allocatePatientCodes(tx, clinicId, 1))[0]!;
}

/** The stored row of a patient input: with the folded name and phone digits for search. */
export function patientRow(input: PatientInput) {
  return {
    ...input,
    searchName: fold(input.fullName),
    phoneDigits: [digits(input.phone), digits(input.phone2)].filter(Boolean).join(' '),
  };
}

export interface Duplicate {
  id: string;
  code: string;
  fullName: string;
  birthDate: string;
  clinicName: string;
  reason: 'national_id' | 'name_birth';
  inScope: boolean;
}

/** Possible duplicates across the programme: same national ID, or same folded name and birth date. */
export async function findDuplicates(db: Db, input: Pick<PatientInput, 'nationalId' | 'fullName' | 'birthDate'>, scope: string[] | null, excludeId?: string): Promise<Duplicate[]> {
  const conds: SQL[] = [and(eq(patients.searchName, fold(input.fullName)), eq(patients.birthDate, input.birthDate))!];
  if (input.nationalId) conds.push(eq(patients.nationalId, input.nationalId));
  const found = await db
    .select({ id: patients.id, code: patients.code, fullName: patients.fullName, birthDate: patients.birthDate, nationalId: patients.nationalId, homeClinicId: patients.homeClinicId, clinicName: clinics.name })
    .from(patients)
    .innerJoin(clinics, eq(clinics.id, patients.homeClinicId))
    .where(or(...conds))
    .limit(20);
  return found
    .filter((p) => p.id !== excludeId)
    .map((p) => {
      const inScope = !scope || scope.includes(p.homeClinicId);
      return {
        id: p.id,
        code: p.code,
        // Outside one's clinics, only the code and clinic are shown: enough to call them.
        fullName: inScope ? p.fullName : '',
        birthDate: inScope ? p.birthDate : '',
        clinicName: p.clinicName,
        reason: input.nationalId && p.nationalId === input.nationalId ? ('national_id' as const) : ('name_birth' as const),
        inScope,
      };
    });
}

export async function registerPatient({ db, clock }: ServiceDeps, actor: Actor, input: PatientInput, scope: string[] | null, photo: Uint8Array | null): Promise<Patient> {
  await checkReferences(db, input, scope);
  if (photo) {
    const problem = checkPhoto(photo);
    if (problem) throw new Invalid({ photo: problem });
  }
  try {
    return await db.transaction(async (tx) => {
      const code = await allocatePatientCode(tx, input.homeClinicId);
      const [p] = await tx
        .insert(patients)
        .values({ ...patientRow(input), code, createdBy: actor.userId, createdAt: clock.now() })
        .returning();
      if (photo) await tx.insert(patientPhotos).values({ patientId: p!.id, jpeg: photo, createdBy: actor.userId, createdAt: clock.now() });
      await audit(tx, { action: 'patient_create', actorId: actor.userId, clinicId: p!.homeClinicId, entityType: 'patient', entityId: p!.id, details: { code: p!.code, photo: !!photo }, address: actor.address, at: clock.now() });
      return p!;
    });
  } catch (e) {
    if (isUniqueViolation(e, 'patients_national_id_uq')) throw new Invalid({ nationalId: 'err_national_id_taken' });
    throw e;
  }
}

export async function updatePatient({ db, clock }: ServiceDeps, actor: Actor, id: string, input: PatientInput, scope: string[] | null): Promise<Patient> {
  const before = await getPatientInScope(db, id, scope);
  await checkReferences(db, input, scope);
  const next = patientRow(input);
  const changed = (Object.keys(next) as (keyof typeof next)[]).filter((k) => String(before[k] ?? '') !== String(next[k] ?? ''));
  try {
    return await db.transaction(async (tx) => {
      const [p] = await tx.update(patients).set(next).where(eq(patients.id, id)).returning();
      // Field names only: the values are health data and stay out of the log.
      await audit(tx, { action: 'patient_update', actorId: actor.userId, clinicId: p!.homeClinicId, entityType: 'patient', entityId: id, details: { changed }, address: actor.address, at: clock.now() });
      return p!;
    });
  } catch (e) {
    if (isUniqueViolation(e, 'patients_national_id_uq')) throw new Invalid({ nationalId: 'err_national_id_taken' });
    throw e;
  }
}

export async function addPhoto({ db, clock }: ServiceDeps, actor: Actor, patientId: string, photo: Uint8Array, scope: string[] | null): Promise<void> {
  const p = await getPatientInScope(db, patientId, scope);
  const problem = checkPhoto(photo);
  if (problem) throw new Invalid({ photo: problem });
  await db.transaction(async (tx) => {
    await tx.insert(patientPhotos).values({ patientId, jpeg: photo, createdBy: actor.userId, createdAt: clock.now() });
    await audit(tx, { action: 'patient_photo', actorId: actor.userId, clinicId: p.homeClinicId, entityType: 'patient', entityId: patientId, address: actor.address, at: clock.now() });
  });
}

export async function latestPhoto(db: Db, patientId: string): Promise<Uint8Array | null> {
  const [row] = await db.select({ jpeg: patientPhotos.jpeg }).from(patientPhotos).where(eq(patientPhotos.patientId, patientId)).orderBy(desc(patientPhotos.createdAt)).limit(1);
  return row ? new Uint8Array(row.jpeg) : null;
}

/** A patient the user may see (home clinic among theirs); anything else answers 404. */
export async function getPatientInScope(db: Db, id: string, scope: string[] | null): Promise<Patient> {
  const [p] = await db.select().from(patients).where(scope ? and(eq(patients.id, id), inArray(patients.homeClinicId, scope.length ? scope : [NIL])) : eq(patients.id, id));
  if (!p) throw new NotFound('patient');
  return p;
}

const NIL = '00000000-0000-0000-0000-000000000000';

export interface SearchRow {
  id: string;
  code: string;
  fullName: string;
  birthDate: string;
  sex: Sex;
  phone: string;
  clinicName: string;
}

/**
 * Matches counted exactly up to this many; past it a search says "more than
 * SEARCH_COUNT_CAP": a name typed so far that it finds hundreds ("nguyen")
 * needs more letters, not a page count, and counting thousands of matches on
 * every keystroke was most of the search's cost.
 */
export const SEARCH_COUNT_CAP = 200;

export interface SearchResult {
  rows: SearchRow[];
  /** The matches, counted up to SEARCH_COUNT_CAP (0 when not counted). */
  total: number;
  /** More than SEARCH_COUNT_CAP match. */
  capped: boolean;
}

/**
 * Search by code, folded name ("nguyen van an" finds "Nguyễn Văn An"), phone
 * digits or national ID, within the user's clinics; newest first, paged.
 * `count: false` (the counter's pick list) skips the count.
 */
export async function searchPatients(db: Db, query: string, scope: string[] | null, page: number, size: number, opts: { count?: boolean } = {}): Promise<SearchResult> {
  const q = query.normalize('NFC').trim().slice(0, 100);
  const conds: SQL[] = [];
  if (scope) conds.push(inArray(patients.homeClinicId, scope.length ? scope : [NIL]));
  if (q) {
    const alts: SQL[] = [];
    const qDigits = digits(q);
    const folded = fold(q);
    if (/^[A-Za-z0-9]+-?\d*$/.test(q) && /[A-Za-z]/.test(q)) alts.push(ilike(patients.code, `${escapeLike(q)}%`));
    if (qDigits.length === 12 && qDigits === q.replace(/[\s.]/g, '')) alts.push(eq(patients.nationalId, qDigits));
    if (qDigits.length >= 4 && qDigits.length === q.replace(/[\s.()+\-]/g, '').length) alts.push(like(patients.phoneDigits, `%${qDigits}%`));
    if (/\p{L}/u.test(folded)) alts.push(like(patients.searchName, `%${escapeLike(folded)}%`));
    conds.push(alts.length ? or(...alts)! : sql`false`);
  }
  const where = and(...conds);
  // At most CAP + 1 matches are counted: a common name (and a name of one or
  // two letters, which has no trigram and is a sequential scan) stops early.
  // The count rides on the page's own statement (its `patients` is the inner
  // one), one round trip instead of two; only a page past the last asks again.
  const capped = (w: SQL | undefined) => sql<number>`(select count(*) from (select 1 from ${patients} where ${w} limit ${SEARCH_COUNT_CAP + 1}) as matches)`.mapWith(Number);
  const found = await db
    .select({ id: patients.id, code: patients.code, fullName: patients.fullName, birthDate: patients.birthDate, sex: patients.sex, phone: patients.phone, clinicName: clinics.name, ...(opts.count === false ? {} : { n: capped(where) }) })
    .from(patients)
    .innerJoin(clinics, eq(clinics.id, patients.homeClinicId))
    .where(where)
    .orderBy(desc(patients.createdAt), patients.code)
    .limit(size)
    .offset((page - 1) * size);
  let n = 0;
  if (opts.count !== false) n = found[0]?.n ?? (page > 1 ? Number((await rows<{ n: number }>(db, sql`select ${capped(where)} as n`))[0]?.n ?? 0) : 0);
  return { rows: found.map(({ n: _n, ...row }) => row), total: Math.min(n, SEARCH_COUNT_CAP), capped: n > SEARCH_COUNT_CAP };
}

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (m) => `\\${m}`);

/** Active counsellors at a clinic, for the assignment select. */
export async function counsellorsAt(db: Db, clinicIds: string[]) {
  if (!clinicIds.length) return [];
  return db
    .selectDistinct({ id: users.id, fullName: users.fullName, clinicId: userClinics.clinicId })
    .from(users)
    .innerJoin(userClinics, eq(userClinics.userId, users.id))
    .where(and(eq(users.role, 'counsellor'), eq(users.active, true), inArray(userClinics.clinicId, clinicIds)))
    .orderBy(users.fullName);
}
