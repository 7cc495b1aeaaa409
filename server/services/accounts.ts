// Staff accounts: created by the admin with a role and the clinics they work at.
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { clinics, userClinics, users, type Locale, type Role } from '../../db/schema.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../auth/password.ts';
import { changingSessions } from '../auth/session-cache.ts';
import { revokeUserSessions } from '../auth/sessions.ts';
import { Invalid, NotFound, isUniqueViolation } from '../errors.ts';
import { audit } from './audit.ts';
import type { Actor, ServiceDeps } from './context.ts';

export interface NewAccount {
  username: string;
  fullName: string;
  role: Role;
  clinicIds: string[];
  password: string;
}

export interface AccountChanges {
  fullName: string;
  role: Role;
  clinicIds: string[];
}

export type Account = {
  id: string;
  username: string;
  fullName: string;
  role: Role;
  active: boolean;
  locale: Locale;
  clinicIds: string[];
};

async function checkClinics(db: Db, clinicIds: string[]): Promise<void> {
  if (clinicIds.length === 0) throw new Invalid({ clinicIds: 'err_clinics_required' });
  const found = await db.select({ id: clinics.id }).from(clinics).where(inArray(clinics.id, clinicIds));
  if (found.length !== new Set(clinicIds).size) throw new Invalid({ clinicIds: 'err_choose' });
}

function checkPassword(password: string, field: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new Invalid({ [field]: problem });
}

export async function createAccount({ db, clock }: ServiceDeps, actor: Actor, input: NewAccount): Promise<Account> {
  checkPassword(input.password, 'password');
  await checkClinics(db, input.clinicIds);
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.transaction(async (tx) => {
      const [user] = await tx
        .insert(users)
        .values({ username: input.username, fullName: input.fullName, role: input.role, passwordHash, mustChangePassword: true, passwordChangedAt: clock.now() })
        .returning();
      const clinicIds = [...new Set(input.clinicIds)];
      await tx.insert(userClinics).values(clinicIds.map((clinicId) => ({ userId: user!.id, clinicId })));
      await audit(tx, { action: 'user_create', actorId: actor.userId, entityType: 'user', entityId: user!.id, details: { role: input.role, clinicIds }, address: actor.address, at: clock.now() });
      return { ...pick(user!), clinicIds };
    });
  } catch (e) {
    if (isUniqueViolation(e, 'users_username_uq')) throw new Invalid({ username: 'err_username_taken' });
    throw e;
  }
}

function pick(u: typeof users.$inferSelect): Omit<Account, 'clinicIds'> {
  return { id: u.id, username: u.username, fullName: u.fullName, role: u.role, active: u.active, locale: u.locale };
}

export async function updateAccount({ db, clock }: ServiceDeps, actor: Actor, id: string, input: AccountChanges): Promise<Account> {
  const before = await getAccount(db, id);
  await checkClinics(db, input.clinicIds);
  const clinicIds = [...new Set(input.clinicIds)];
  return changingSessions(db, () => db.transaction(async (tx) => {
    const [user] = await tx.update(users).set({ fullName: input.fullName, role: input.role }).where(eq(users.id, id)).returning();
    await tx.delete(userClinics).where(eq(userClinics.userId, id));
    await tx.insert(userClinics).values(clinicIds.map((clinicId) => ({ userId: id, clinicId })));
    // A change of role or clinics takes effect now, not at the next login.
    const roleOrScopeChanged = before.role !== input.role || before.clinicIds.slice().sort().join() !== clinicIds.slice().sort().join();
    if (roleOrScopeChanged) await revokeUserSessions(tx, id, clock.now());
    await audit(tx, {
      action: 'user_update',
      actorId: actor.userId,
      entityType: 'user',
      entityId: id,
      details: { role: input.role, previousRole: before.role, clinicIds, previousClinicIds: before.clinicIds },
      address: actor.address,
      at: clock.now(),
    });
    return { ...pick(user!), clinicIds };
  }));
}

export async function getAccount(db: Db, id: string): Promise<Account> {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  if (!user) throw new NotFound('user');
  const links = await db.select({ clinicId: userClinics.clinicId }).from(userClinics).where(eq(userClinics.userId, id));
  return { ...pick(user), clinicIds: links.map((l) => l.clinicId) };
}

export async function listAccounts(db: Db, clinicScope: string[] | null): Promise<Account[]> {
  const rows = await db.select().from(users).orderBy(asc(users.username));
  const links = await db.select().from(userClinics);
  const byUser = new Map<string, string[]>();
  for (const l of links) byUser.set(l.userId, [...(byUser.get(l.userId) ?? []), l.clinicId]);
  return rows
    .map((u) => ({ ...pick(u), clinicIds: byUser.get(u.id) ?? [] }))
    .filter((a) => !clinicScope || a.clinicIds.some((c) => clinicScope.includes(c)));
}

/** Admin reset: a new password that must be changed at next login; every session of the account ends. */
export async function resetPassword({ db, clock }: ServiceDeps, actor: Actor, id: string, password: string): Promise<Account> {
  checkPassword(password, 'password');
  const account = await getAccount(db, id);
  const passwordHash = await hashPassword(password);
  await changingSessions(db, () => db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash, mustChangePassword: true, passwordChangedAt: clock.now() }).where(eq(users.id, id));
    await revokeUserSessions(tx, id, clock.now());
    await audit(tx, { action: 'user_reset_password', actorId: actor.userId, entityType: 'user', entityId: id, address: actor.address, at: clock.now() });
  }));
  return account;
}

export async function setActive({ db, clock }: ServiceDeps, actor: Actor, id: string, active: boolean): Promise<Account> {
  if (!active && id === actor.userId) throw new Invalid({ active: 'staff_cannot_deactivate_self' });
  const account = await getAccount(db, id);
  await changingSessions(db, () => db.transaction(async (tx) => {
    await tx.update(users).set({ active }).where(eq(users.id, id));
    if (!active) await revokeUserSessions(tx, id, clock.now());
    await audit(tx, { action: active ? 'user_reactivate' : 'user_deactivate', actorId: actor.userId, entityType: 'user', entityId: id, address: actor.address, at: clock.now() });
  }));
  return { ...account, active };
}

/** A user changes their own password: the current one is checked, every other session ends. */
export async function changeOwnPassword(
  { db, clock }: ServiceDeps,
  actor: Actor,
  input: { current: string; next: string; confirm: string; keepSessionIdHash: string },
): Promise<void> {
  const [user] = await db.select().from(users).where(and(eq(users.id, actor.userId), eq(users.active, true)));
  if (!user) throw new NotFound('user');
  if (!(await verifyPassword(input.current, user.passwordHash))) throw new Invalid({ current: 'err_password_wrong' });
  checkPassword(input.next, 'next');
  if (input.next !== input.confirm) throw new Invalid({ confirm: 'err_password_mismatch' });
  if (input.next === input.current) throw new Invalid({ next: 'err_password_same' });
  const passwordHash = await hashPassword(input.next);
  await changingSessions(db, () => db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash, mustChangePassword: false, passwordChangedAt: clock.now() }).where(eq(users.id, actor.userId));
    await revokeUserSessions(tx, actor.userId, clock.now(), input.keepSessionIdHash);
    await audit(tx, { action: 'user_change_password', actorId: actor.userId, entityType: 'user', entityId: actor.userId, address: actor.address, at: clock.now() });
  }));
}

export async function setLocale({ db, clock }: ServiceDeps, actor: Actor, locale: Locale): Promise<void> {
  await changingSessions(db, () => db.transaction(async (tx) => {
    await tx.update(users).set({ locale }).where(eq(users.id, actor.userId));
    await audit(tx, { action: 'user_set_locale', actorId: actor.userId, entityType: 'user', entityId: actor.userId, details: { locale }, address: actor.address, at: clock.now() });
  }));
}
