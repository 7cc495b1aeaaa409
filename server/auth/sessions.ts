// Server-side sessions. The cookie holds an opaque random token; the database
// holds its hash, the user, the CSRF token and the two expiries (idle and absolute).
import { and, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { sessions, userClinics, users, type Locale, type Role } from '../../db/schema.ts';
import { PREPARED, preparedQuery } from '../../db/sql.ts';
import { sessionCacheOf } from './session-cache.ts';
import { newToken, tokenHash } from './tokens.ts';

export interface SessionUser {
  id: string;
  username: string;
  fullName: string;
  role: Role;
  locale: Locale;
  mustChangePassword: boolean;
  /** The clinics this user works at: the scope of every query they make. */
  clinicIds: string[];
}

export interface CurrentSession {
  idHash: string;
  csrfToken: string;
  user: SessionUser;
}

export interface SessionPolicy {
  idleMinutes: number;
  absoluteMinutes: number;
}

/** Only touch last_seen_at this often: a page view should not always be a write. */
const TOUCH_EVERY_MS = 60_000;

export async function createSession(db: Db, userId: string, now: Date, policy: SessionPolicy): Promise<{ token: string; csrfToken: string }> {
  const token = newToken();
  const csrfToken = newToken();
  await db.insert(sessions).values({
    idHash: tokenHash(token),
    userId,
    csrfToken,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + policy.absoluteMinutes * 60_000),
  });
  return { token, csrfToken };
}

// Every request asks for its session: made once, parsed and planned once per connection.
const sessionQuery = preparedQuery((db) =>
  db
    .select({
      csrfToken: sessions.csrfToken,
      lastSeenAt: sessions.lastSeenAt,
      expiresAt: sessions.expiresAt,
      id: users.id,
      username: users.username,
      fullName: users.fullName,
      role: users.role,
      locale: users.locale,
      mustChangePassword: users.mustChangePassword,
      clinicIds: sql<string[] | null>`(select array_agg(${userClinics.clinicId}::text) from ${userClinics} where ${userClinics.userId} = ${users.id})`,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.idHash, sql.placeholder('idHash')),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql.placeholder('now')),
        gt(sessions.lastSeenAt, sql.placeholder('idleSince')),
        eq(users.active, true),
      ),
    )
    .prepare(PREPARED),
);

const touchQuery = preparedQuery((db) =>
  db
    .update(sessions)
    .set({ lastSeenAt: sql`${sql.placeholder('now')}::timestamptz` })
    .where(eq(sessions.idHash, sql.placeholder('idHash')))
    .prepare(PREPARED),
);

/**
 * The live session for a cookie value, or null (unknown, revoked, idle too
 * long, past its end, account disabled). From memory when this server keeps
 * sessions (server/auth/session-cache.ts), with both expiries checked here.
 * `passive`: a request the page makes by itself (a badge's poll) reads the
 * session without keeping it alive.
 */
export async function loadSession(db: Db, token: string, now: Date, policy: SessionPolicy, passive = false): Promise<CurrentSession | null> {
  const idHash = tokenHash(token);
  const idleSince = new Date(now.getTime() - policy.idleMinutes * 60_000);
  const cache = sessionCacheOf<SessionUser>(db);
  let entry = cache?.get(idHash);
  // Past an expiry by what this server kept: another server may have kept it alive since, so only the database says it is gone.
  if (entry && !(entry.expiresAt > now && entry.lastSeenAt > idleSince)) {
    cache!.delete(idHash);
    entry = undefined;
  }
  if (!entry) {
    const generation = cache?.generation ?? 0;
    const [row] = await sessionQuery(db).execute({ idHash, now: now.toISOString(), idleSince: idleSince.toISOString() });
    if (!row) return null;
    const { csrfToken, lastSeenAt, expiresAt, clinicIds, ...rest } = row;
    // Shared by the requests that find it kept: frozen, so none can change it for the others.
    entry = { csrfToken, lastSeenAt, expiresAt, user: Object.freeze({ ...rest, clinicIds: Object.freeze(parseTextArray(clinicIds)) as string[] }) };
    cache?.put(idHash, entry, generation);
  }
  if (!passive && now.getTime() - entry.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await touchQuery(db).execute({ idHash, now: now.toISOString() });
    entry.lastSeenAt = now;
  }
  return { idHash, csrfToken: entry.csrfToken, user: entry.user };
}

/** postgres.js parses text[] into an array; PGlite may too, or hand back the literal. */
function parseTextArray(v: string[] | string | null): string[] {
  if (v === null) return [];
  if (Array.isArray(v)) return v;
  return v.replace(/^\{|\}$/g, '').split(',').filter(Boolean);
}

export async function revokeSession(db: Db, idHash: string, now: Date): Promise<void> {
  await db.update(sessions).set({ revokedAt: now }).where(and(eq(sessions.idHash, idHash), isNull(sessions.revokedAt)));
}

/** Ends every session of a user, but the one given (a password change keeps the current one). */
export async function revokeUserSessions(db: Db, userId: string, now: Date, exceptIdHash?: string): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), exceptIdHash ? ne(sessions.idHash, exceptIdHash) : undefined));
}
