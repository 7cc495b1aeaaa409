// Test data made through the real schema. Passwords are hashed once per
// process: scrypt at production cost is deliberately slow.
import { clinics, userClinics, users, type Role } from '../../db/schema.ts';
import type { Db } from '../../db/client.ts';
import { hashPassword } from '../../server/auth/password.ts';
import { createSession } from '../../server/auth/sessions.ts';

export const TEST_PASSWORD = 'correct-horse-battery-staple';
let hash: Promise<string> | null = null;
export const testPasswordHash = () => (hash ??= hashPassword(TEST_PASSWORD));

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`.toUpperCase().slice(-8);

/** Phường Ngô Quyền, Hải Phòng: a real commune of province 31. */
export const HAI_PHONG = { provinceCode: 31, communeCode: 11329 } as const;

export async function makeClinic(db: Db, opts: { kind?: 'facility' | 'satellite'; parentId?: string; timeZone?: string; name?: string } = {}) {
  const kind = opts.kind ?? 'facility';
  const [row] = await db
    .insert(clinics)
    .values({ code: `T${unique()}`, name: opts.name ?? `Clinic ${unique()}`, kind, parentId: kind === 'satellite' ? opts.parentId : null, ...HAI_PHONG, timeZone: opts.timeZone ?? 'Asia/Ho_Chi_Minh' })
    .returning();
  return row!;
}

export async function makeUser(db: Db, role: Role, clinicIds: string[], opts: { username?: string; active?: boolean; mustChangePassword?: boolean } = {}) {
  const [row] = await db
    .insert(users)
    .values({
      username: opts.username ?? `${role}-${unique().toLowerCase()}`,
      fullName: `Test ${role}`,
      role,
      passwordHash: await testPasswordHash(),
      active: opts.active ?? true,
      mustChangePassword: opts.mustChangePassword ?? false,
    })
    .returning();
  if (clinicIds.length) await db.insert(userClinics).values(clinicIds.map((clinicId) => ({ userId: row!.id, clinicId })));
  return row!;
}

/** A session made directly (no password round), as a logged-in browser would hold. */
export async function sessionFor(db: Db, userId: string, now = new Date(), policy = { idleMinutes: 30, absoluteMinutes: 720 }) {
  return createSession(db, userId, now, policy);
}
