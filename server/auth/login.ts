// Logging in: throttling, password check, session, audit.
//
// Throttle: after LOGIN_MAX_FAILURES failures within LOGIN_LOCK_MINUTES for an
// account, or from an address, further attempts are refused until the window
// slides past them. A browser where the user has logged in before carries a
// trusted-device cookie; it is judged only by its own failures, so an attacker
// (or a confused colleague behind the clinic's one NAT address) cannot lock
// the whole clinic out — the OWASP "device cookie" pattern.
import { and, desc, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { loginAttempts, trustedDevices, users } from '../../db/schema.ts';
import { audit } from '../services/audit.ts';
import { dummyVerify, verifyPassword } from './password.ts';
import { createSession, type SessionPolicy } from './sessions.ts';
import { newToken, tokenHash } from './tokens.ts';

export interface ThrottlePolicy {
  maxFailures: number;
  lockMinutes: number;
}

export interface LoginInput {
  username: string;
  password: string;
  address: string;
  /** The trusted-device tokens this browser holds (one per user who logged in on it). */
  deviceTokens: string[];
}

export type LoginResult =
  | { kind: 'ok'; userId: string; sessionToken: string; deviceToken: string | null }
  | { kind: 'failed' }
  | { kind: 'throttled'; minutes: number };

/** A shared counter computer remembers this many users. */
export const MAX_DEVICE_TOKENS = 8;

export const normaliseUsername = (u: string): string => u.normalize('NFC').trim().toLowerCase();

type Key = { column: 'username' | 'address' | 'device_hash'; value: string };

/**
 * When the throttle on a key lifts (null when it is not throttled): the
 * failures counted are those within the window and after the key's last success.
 */
async function lockedUntil(db: Db, key: Key, now: Date, policy: ThrottlePolicy): Promise<Date | null> {
  const column = key.column === 'username' ? loginAttempts.username : key.column === 'address' ? loginAttempts.address : loginAttempts.deviceHash;
  const windowStart = new Date(now.getTime() - policy.lockMinutes * 60_000);
  const lastSuccess = db
    .select({ at: sql`max(${loginAttempts.at})` })
    .from(loginAttempts)
    .where(and(eq(column, key.value), eq(loginAttempts.succeeded, true)));
  const recent = await db
    .select({ at: loginAttempts.at })
    .from(loginAttempts)
    .where(
      and(
        eq(column, key.value),
        eq(loginAttempts.succeeded, false),
        gt(loginAttempts.at, windowStart),
        sql`${loginAttempts.at} > coalesce((${lastSuccess}), '-infinity'::timestamptz)`,
      ),
    )
    .orderBy(desc(loginAttempts.at))
    .limit(policy.maxFailures);
  if (recent.length < policy.maxFailures) return null;
  // The oldest of the last maxFailures failures leaves the window at this time.
  return new Date(recent[recent.length - 1]!.at.getTime() + policy.lockMinutes * 60_000);
}

async function trustedDeviceOf(db: Db, deviceTokens: string[], username: string): Promise<string | null> {
  if (deviceTokens.length === 0) return null;
  const [row] = await db
    .select({ hash: trustedDevices.tokenHash })
    .from(trustedDevices)
    .innerJoin(users, eq(users.id, trustedDevices.userId))
    .where(and(inArray(trustedDevices.tokenHash, deviceTokens.map(tokenHash)), eq(users.username, username)));
  return row?.hash ?? null;
}

export async function login(db: Db, input: LoginInput, now: Date, sessionPolicy: SessionPolicy, throttle: ThrottlePolicy): Promise<LoginResult> {
  const username = normaliseUsername(input.username).slice(0, 64);
  const deviceHash = await trustedDeviceOf(db, input.deviceTokens.slice(0, MAX_DEVICE_TOKENS), username);

  const keys: Key[] = deviceHash
    ? [{ column: 'device_hash', value: deviceHash }]
    : [
        { column: 'username', value: username },
        { column: 'address', value: input.address },
      ];
  const locks = await Promise.all(keys.map((k) => lockedUntil(db, k, now, throttle)));
  const until = locks.reduce<Date | null>((a, b) => (b && (!a || b > a) ? b : a), null);
  if (until) {
    await audit(db, { action: 'login_throttled', actorId: null, details: { username }, address: input.address, at: now });
    return { kind: 'throttled', minutes: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000)) };
  }

  const [user] = await db
    .select({ id: users.id, hash: users.passwordHash, active: users.active })
    .from(users)
    .where(eq(users.username, username));
  const ok = user ? await verifyPassword(input.password, user.hash) : await dummyVerify(input.password);

  if (!user || !ok || !user.active) {
    await db.transaction(async (tx) => {
      await tx.insert(loginAttempts).values({ at: now, username, address: input.address, deviceHash, succeeded: false });
      await audit(tx, {
        action: 'login_failed',
        actorId: null,
        entityType: user ? 'user' : undefined,
        entityId: user?.id,
        details: { username, reason: !user ? 'unknown_user' : !ok ? 'wrong_password' : 'inactive' },
        address: input.address,
        at: now,
      });
    });
    return { kind: 'failed' };
  }

  return db.transaction(async (tx) => {
    const { token } = await createSession(tx, user.id, now, sessionPolicy);
    let newDevice: string | null = null;
    if (deviceHash) {
      await tx.update(trustedDevices).set({ lastUsedAt: now }).where(eq(trustedDevices.tokenHash, deviceHash));
    } else {
      newDevice = newToken();
      await tx.insert(trustedDevices).values({ tokenHash: tokenHash(newDevice), userId: user.id, createdAt: now, lastUsedAt: now });
    }
    await tx.insert(loginAttempts).values({ at: now, username, address: input.address, deviceHash: deviceHash ?? tokenHash(newDevice!), succeeded: true });
    await audit(tx, { action: 'login', actorId: user.id, entityType: 'user', entityId: user.id, address: input.address, at: now });
    return { kind: 'ok', userId: user.id, sessionToken: token, deviceToken: newDevice };
  });
}
