// What the home pages and the audit page read.
import { and, count, desc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { auditLog, clinics, userClinics, users } from '../../db/schema.ts';

export async function activeCounts(db: Db): Promise<{ clinics: number; staff: number }> {
  const [c] = await db.select({ n: count() }).from(clinics).where(eq(clinics.active, true));
  const [u] = await db.select({ n: count() }).from(users).where(eq(users.active, true));
  return { clinics: Number(c?.n ?? 0), staff: Number(u?.n ?? 0) };
}

/** Active staff per clinic, for the given clinics. */
export async function staffCounts(db: Db, clinicIds: string[]): Promise<Map<string, number>> {
  if (clinicIds.length === 0) return new Map();
  const rows = await db
    .select({ clinicId: userClinics.clinicId, n: count() })
    .from(userClinics)
    .innerJoin(users, eq(users.id, userClinics.userId))
    .where(and(inArray(userClinics.clinicId, clinicIds), eq(users.active, true)))
    .groupBy(userClinics.clinicId);
  return new Map(rows.map((r) => [r.clinicId, Number(r.n)]));
}

export async function staffAt(db: Db, clinicId: string) {
  return db
    .select({ fullName: users.fullName, role: users.role })
    .from(userClinics)
    .innerJoin(users, eq(users.id, userClinics.userId))
    .where(and(eq(userClinics.clinicId, clinicId), eq(users.active, true)))
    .orderBy(users.role, users.fullName);
}

export interface AuditRow {
  id: number;
  at: Date;
  actor: string | null;
  action: string;
  clinic: string | null;
  timeZone: string | null;
  entity: string | null;
}

/**
 * Audit rows, newest first. `scope` null: everything (admin). Otherwise the rows
 * of those clinics, and the rows by or about the staff who work there.
 */
export async function auditPage(db: Db, scope: string[] | null, page: number, size: number): Promise<{ rows: AuditRow[]; hasNext: boolean }> {
  const staffOfScope = scope
    ? db.select({ id: sql`${userClinics.userId}::text` }).from(userClinics).where(inArray(userClinics.clinicId, scope.length ? scope : ['00000000-0000-0000-0000-000000000000']))
    : null;
  const where =
    scope === null
      ? undefined
      : or(
          inArray(auditLog.clinicId, scope.length ? scope : ['00000000-0000-0000-0000-000000000000']),
          and(isNull(auditLog.clinicId), eq(auditLog.entityType, 'user'), inArray(auditLog.entityId, staffOfScope!)),
        );
  const result = await db
    .select({
      id: auditLog.id,
      at: auditLog.at,
      actor: users.username,
      action: auditLog.action,
      clinic: clinics.name,
      timeZone: clinics.timeZone,
      entityType: auditLog.entityType,
      entityId: auditLog.entityId,
    })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorId))
    .leftJoin(clinics, eq(clinics.id, auditLog.clinicId))
    .where(where)
    .orderBy(desc(auditLog.id))
    .limit(size + 1)
    .offset((page - 1) * size);
  return {
    rows: result.slice(0, size).map(({ entityType, entityId, ...r }) => ({ ...r, entity: entityType ? `${entityType}:${(entityId ?? '').slice(0, 8)}` : null })),
    hasNext: result.length > size,
  };
}
