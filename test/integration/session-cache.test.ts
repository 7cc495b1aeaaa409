// security.md "Accounts and sessions" with live sessions kept in memory
// (server/auth/session-cache.ts), as the server runs: a revoked session, a
// disabled account, a changed role, language or clinic list takes effect at
// once, also when the change is made elsewhere (another server, or by hand in
// SQL), which this server hears through mp_auth (migration 0023); and while
// it cannot hear, nothing is answered from memory. The changes made through
// this server are in login-sessions.test.ts, which runs with the cache too.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { LISTENER_APPLICATION_NAME } from '../../db/notifications.ts';
import { sessionCacheOf, startSessionCache, type SessionCache } from '../../server/auth/session-cache.ts';
import { tokenHash } from '../../server/auth/tokens.ts';
import { FixedClock } from '../../server/clock.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, TEST_PASSWORD } from '../helpers/fixtures.ts';

/** Waits for `done`, checking every 20 ms; fails after `ms`. */
async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeEachDatabase('sessions kept in memory', (get) => {
  let stopCache = async () => {};
  beforeAll(async () => {
    stopCache = await startSessionCache(get());
  });
  afterAll(() => stopCache());

  async function setup() {
    const { db } = get();
    const cache = sessionCacheOf(db)!;
    const t = makeTestApp(db, {}, new FixedClock(new Date('2026-11-23T00:30:00Z')));
    const clinic = await makeClinic(db);
    const other = await makeClinic(db);
    const nurse = await makeUser(db, 'nurse', [clinic.id]);
    const c = new TestClient(t.app, { 'x-forwarded-for': '10.9.0.1' });
    await c.get('/login');
    expect((await c.post('/login', { username: nurse.username, password: TEST_PASSWORD })).res.status).toBe(303);
    const idHash = tokenHash(c.cookies.get('mp_session')!);
    expect((await c.get('/home')).res.status).toBe(200);
    return { db, cache, clinic, other, nurse, c, idHash };
  }

  /** A write made outside this server: it is heard when its notification arrives. */
  async function elsewhere(db: Db, cache: SessionCache<unknown>, write: () => Promise<unknown>): Promise<void> {
    const before = cache.generation;
    await write();
    // PGlite hands the notification over with the write's answer; PostgreSQL sends it to the listening connection.
    await until(() => cache.generation !== before, 5_000, 'the change is heard');
  }

  it('a live session is answered from memory once read', async () => {
    const { db, cache, c, idHash } = await setup();
    expect(cache.live).toBe(true);
    expect(cache.get(idHash)).toBeDefined();
    // An update of last_seen_at alone is a touch, not a change anyone is told of:
    // the session is still answered from memory, though the row now says idle.
    await db.execute(sql`update sessions set last_seen_at = '2000-01-01' where id_hash = ${idHash}`);
    expect((await c.get('/home')).res.status).toBe(200);
    // Once forgotten, the database is asked, and it says the session is over.
    cache.forget();
    expect((await c.get('/home')).res.headers.get('location')).toBe('/login');
  });

  const changes: [string, (w: Awaited<ReturnType<typeof setup>>) => Promise<unknown>, (w: Awaited<ReturnType<typeof setup>>) => Promise<void>][] = [
    [
      'the session revoked',
      (w) => w.db.execute(sql`update sessions set revoked_at = now() where id_hash = ${w.idHash}`),
      async (w) => expect((await w.c.get('/home')).res.headers.get('location')).toBe('/login'),
    ],
    [
      'the session removed',
      (w) => w.db.execute(sql`delete from sessions where id_hash = ${w.idHash}`),
      async (w) => expect((await w.c.get('/home')).res.headers.get('location')).toBe('/login'),
    ],
    [
      'the account disabled',
      (w) => w.db.execute(sql`update users set active = false where id = ${w.nurse.id}`),
      async (w) => expect((await w.c.get('/home')).res.headers.get('location')).toBe('/login'),
    ],
    [
      'the role changed',
      (w) => w.db.execute(sql`update users set role = 'counsellor' where id = ${w.nurse.id}`),
      async (w) => expect((await w.c.get('/home')).html).toContain('data-role-home="counsellor"'),
    ],
    [
      'the language changed',
      (w) => w.db.execute(sql`update users set locale = 'en' where id = ${w.nurse.id}`),
      async (w) => expect((await w.c.get('/home')).html).toContain('<html lang="en"'),
    ],
    [
      'the clinics changed',
      (w) => w.db.execute(sql`update user_clinics set clinic_id = ${w.other.id} where user_id = ${w.nurse.id}`),
      async (w) => {
        expect((await w.c.get(`/counter?clinic=${w.clinic.id}`)).res.status).toBe(404);
        expect((await w.c.get(`/counter?clinic=${w.other.id}`)).res.status).toBe(200);
      },
    ],
  ];
  it.each(changes)('%s elsewhere takes effect as soon as it is heard', async (_what, change, check) => {
    const w = await setup();
    expect((await w.c.get(`/counter?clinic=${w.clinic.id}`)).res.status).toBe(200);
    expect(w.cache.get(w.idHash)).toBeDefined();
    await elsewhere(w.db, w.cache, () => change(w));
    await check(w);
  });

  it('PostgreSQL: while the listening connection is down nothing is answered from memory, and after it is back sessions are kept again', async (ctx) => {
    if (get().driver !== 'postgres') ctx.skip(); // PGlite is one backend in this process: it has no connection to lose.
    const { db, cache, c, idHash, nurse } = await setup();
    expect(cache.get(idHash)).toBeDefined();
    await db.execute(sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${LISTENER_APPLICATION_NAME} and datname = current_database()`);
    await until(() => !cache.live, 5_000, 'the cache knows its listener is gone');
    expect(cache.size).toBe(0);
    // Asked of the database every time: a change no one could hear of is seen.
    await db.execute(sql`update sessions set last_seen_at = '2000-01-01' where id_hash = ${idHash}`);
    expect((await c.get('/home')).res.headers.get('location')).toBe('/login');
    // Back (the listener tries again every second): a new session is kept once read.
    await until(() => cache.live, 10_000, 'the listener is back');
    const again = new TestClient(makeTestApp(db, {}, new FixedClock(new Date('2026-11-23T00:30:00Z'))).app);
    await again.get('/login');
    expect((await again.post('/login', { username: nurse.username, password: TEST_PASSWORD })).res.status).toBe(303);
    expect((await again.get('/home')).res.status).toBe(200);
    expect(cache.get(tokenHash(again.cookies.get('mp_session')!))).toBeDefined();
  });

  it('PostgreSQL: a listening connection that goes silent without closing is counted down by its heartbeat', async (ctx) => {
    const { url, driver } = get();
    // The backend is paused with SIGSTOP: only when the server runs on this machine (CI's does).
    if (driver !== 'postgres' || !['127.0.0.1', 'localhost'].includes(new URL(url!).hostname)) ctx.skip();
    const { db, cache, idHash } = await setup();
    expect(cache.get(idHash)).toBeDefined();
    const found = (await db.execute(sql`select pid from pg_stat_activity where application_name = ${LISTENER_APPLICATION_NAME} and datname = current_database()`)) as unknown as { pid: number }[];
    const pid = found[0]!.pid;
    process.kill(pid, 'SIGSTOP');
    try {
      // Heartbeat every 5 s, answered within 3 s.
      await until(() => !cache.live, 15_000, 'the silent listener is counted down');
      expect(cache.get(idHash)).toBeUndefined();
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await until(() => cache.live, 15_000, 'a new listener is up');
  }, 40_000);
});
