// Clinics: treatment facilities and their satellite dispensing points.
import { and, asc, eq, inArray, like } from 'drizzle-orm';
import { fold } from '../../db/fold.ts';
import type { Db } from '../../db/client.ts';
import { clinics, communes, provinces, type ClinicKind } from '../../db/schema.ts';
import { Invalid, NotFound, isUniqueViolation, type FieldErrors } from '../errors.ts';
import { audit } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';

export interface ClinicInput {
  code: string;
  name: string;
  kind: ClinicKind;
  parentId: string | null;
  provinceCode: number;
  communeCode: number;
  address: string;
  timeZone: string;
  /** HH:MM local: the day close runs after it. */
  closingTime: string;
  /** Hours a pump's calibration stays good for dosing here (issue 7). */
  pumpCalibrationMaxHours: number;
  active: boolean;
}

export type Clinic = typeof clinics.$inferSelect;
export type ClinicRow = Clinic & { provinceName: string; communeName: string };

/** The checks a form cannot make alone: the parent is a facility, the commune is in the province. */
async function checkReferences(db: Db, input: ClinicInput, selfId: string | null): Promise<void> {
  const errors: FieldErrors = {};
  if (input.kind === 'satellite') {
    if (!input.parentId) errors.parentId = 'err_parent_required';
    else {
      const [parent] = await db.select({ kind: clinics.kind }).from(clinics).where(eq(clinics.id, input.parentId));
      if (!parent || parent.kind !== 'facility' || input.parentId === selfId) errors.parentId = 'err_parent_not_facility';
    }
  }
  const [commune] = await db.select({ provinceCode: communes.provinceCode }).from(communes).where(eq(communes.code, input.communeCode));
  if (!commune) errors.communeCode = 'err_choose';
  else if (commune.provinceCode !== input.provinceCode) errors.communeCode = 'err_commune_not_in_province';
  if (Object.keys(errors).length) throw new Invalid(errors);
}

function values(input: ClinicInput) {
  return { ...input, parentId: input.kind === 'satellite' ? input.parentId : null };
}

export async function createClinic({ db, clock }: ServiceDeps, actor: Actor, input: ClinicInput): Promise<Clinic> {
  await checkReferences(db, input, null);
  try {
    return await db.transaction(async (tx) => {
      const [row] = await tx.insert(clinics).values(values(input)).returning();
      await audit(tx, { action: 'clinic_create', actorId: actor.userId, clinicId: row!.id, entityType: 'clinic', entityId: row!.id, details: { code: row!.code, kind: row!.kind }, address: actor.address, at: clock.now() });
      return row!;
    });
  } catch (e) {
    if (isUniqueViolation(e, 'clinics_code_uq')) throw new Invalid({ code: 'err_clinic_code_taken' });
    throw e;
  }
}

/** Edits a clinic; its code is printed on cards and in patient codes, so it never changes. */
export async function updateClinic({ db, clock }: ServiceDeps, actor: Actor, id: string, input: Omit<ClinicInput, 'code'>): Promise<Clinic> {
  const existing = await getClinic(db, id);
  const full = { ...input, code: existing.code };
  await checkReferences(db, full, id);
  const changed = (Object.keys(input) as (keyof typeof input)[]).filter((k) => String(existing[k]) !== String(values(full)[k]));
  return db.transaction(async (tx) => {
    const [row] = await tx.update(clinics).set(values(full)).where(eq(clinics.id, id)).returning();
    await audit(tx, { action: 'clinic_update', actorId: actor.userId, clinicId: id, entityType: 'clinic', entityId: id, details: { changed }, address: actor.address, at: clock.now() });
    return row!;
  });
}

export async function getClinic(db: Db, id: string): Promise<Clinic> {
  const [row] = await db.select().from(clinics).where(eq(clinics.id, id));
  if (!row) throw new NotFound('clinic');
  return row;
}

/** Clinics with their place names; `scope` limits to a user's clinics (null: all, for the admin). */
export async function listClinics(db: Db, scope: string[] | null): Promise<ClinicRow[]> {
  if (scope && scope.length === 0) return [];
  return db
    .select({
      id: clinics.id,
      code: clinics.code,
      name: clinics.name,
      kind: clinics.kind,
      parentId: clinics.parentId,
      provinceCode: clinics.provinceCode,
      communeCode: clinics.communeCode,
      address: clinics.address,
      timeZone: clinics.timeZone,
      closingTime: clinics.closingTime,
      pumpCalibrationMaxHours: clinics.pumpCalibrationMaxHours,
      active: clinics.active,
      ruleSetId: clinics.ruleSetId,
      createdAt: clinics.createdAt,
      provinceName: provinces.name,
      communeName: communes.name,
    })
    .from(clinics)
    .innerJoin(provinces, eq(provinces.code, clinics.provinceCode))
    .innerJoin(communes, eq(communes.code, clinics.communeCode))
    .where(scope ? inArray(clinics.id, scope) : undefined)
    .orderBy(asc(clinics.code));
}

/** A clinic the user may see: another clinic's record answers 404, as if it did not exist. */
export async function getClinicInScope(db: Db, id: string, scope: string[] | null): Promise<ClinicRow> {
  if (scope && !scope.includes(id)) throw new NotFound('clinic');
  const [row] = await listClinics(db, [id]);
  if (!row) throw new NotFound('clinic');
  return row;
}

export async function listProvinces(db: Db) {
  return db.select().from(provinces).orderBy(asc(provinces.name));
}

export async function listCommunes(db: Db, provinceCode: number, query: string) {
  const q = fold(query);
  return db
    .select({ code: communes.code, name: communes.name })
    .from(communes)
    .where(and(eq(communes.provinceCode, provinceCode), q ? like(communes.searchName, `%${escapeLike(q)}%`) : undefined))
    .orderBy(asc(communes.name));
}

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (m) => `\\${m}`);
