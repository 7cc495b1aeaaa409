// The statements every request repeats run prepared on PostgreSQL (db/sql.ts
// PREPARED, rows(…, { prepare: true }), statement, preparedQuery): parsed once per connection, and
// planned once when PostgreSQL keeps a generic plan. drizzle has no public form of this
// for raw SQL, so this holds the way db/sql.ts reaches for it to what
// PostgreSQL itself lists (pg_prepared_statements, per connection: read in a
// transaction, on the connection that ran them), and the answers to the
// unprepared ones on both drivers.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { users } from '../../db/schema.ts';
import { PREPARED, pgArray, preparedQuery, rows, statement } from '../../db/sql.ts';
import { loadSession } from '../../server/auth/sessions.ts';
import { clinicDay, counterClinics } from '../../server/services/counter.ts';
import { counterFacts } from '../../server/services/dispense.ts';
import { describeEachDatabase } from '../helpers/db.ts';

/** The statements prepared on this connection (PostgreSQL), by their text. */
async function preparedTexts(tx: Db): Promise<string[]> {
  const r = await rows<{ statement: string }>(tx, sql`select statement from pg_prepared_statements`);
  return r.map((x) => x.statement);
}

const QUERY = (n: number, tag: string | null, ids: string[]) =>
  sql`select g as n, ${tag}::text as tag, array_length(${pgArray(ids)}::uuid[], 1) as ids from generate_series(1, ${n}::int) g order by g`;

describeEachDatabase('prepared statements', (get) => {
  it('answer as the unprepared statement does, with null and array parameters', async () => {
    const { db } = get();
    const ids = [randomUUID(), randomUUID()];
    for (const [n, tag] of [[3, 'a'], [1, null], [0, 'b']] as const) {
      const prepared = await rows(db, QUERY(n, tag, ids), { prepare: true });
      expect(prepared).toEqual(await rows(db, QUERY(n, tag, ids)));
      expect(prepared.length).toBe(n);
    }
    const [u] = await db.select({ n: sql<number>`count(*)::int` }).from(users).prepare(PREPARED).execute();
    expect(u!.n).toBeGreaterThanOrEqual(0);
  });

  it('made once with placeholders (statement, preparedQuery), answer each run with its own values', async () => {
    const { db } = get();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const made = statement<{ n: number; tag: string | null; ids: number }, { n: number; tag: string | null; ids: string }>(
      (v) => sql`select g as n, ${v.tag}::text as tag, array_length(${v.ids}::uuid[], 1) as ids from generate_series(1, ${v.n}::int) g order by g`,
    );
    // Each run its own values (the text is made at the first run and kept): never the first run's again.
    for (const [n, tag, k] of [[3, 'a', 2], [1, null, 3], [0, 'b', 1], [2, 'c', 1]] as const) {
      const answer = await made(db, { n, tag, ids: pgArray(ids.slice(0, k)) });
      expect(answer).toEqual(await rows(db, QUERY(n, tag, ids.slice(0, k))));
      expect(answer.length).toBe(n);
    }
    const byName = preparedQuery((d) => d.select({ id: users.id }).from(users).where(sql`${users.username} = ${sql.placeholder('name')}`).prepare(PREPARED));
    expect(byName(db)).toBe(byName(db));
    const [someone] = await db
      .insert(users)
      .values({ username: `ps-${randomUUID().slice(0, 8)}`, fullName: 'Prepared statement test', role: 'nurse', passwordHash: 'no login' })
      .returning({ id: users.id, username: users.username });
    expect(await byName(db).execute({ name: someone!.username })).toEqual([{ id: someone!.id }]);
    expect(await byName(db).execute({ name: `nobody-${randomUUID()}` })).toEqual([]);
  });

  it('are kept by PostgreSQL on the connection, the unprepared ones are not', async () => {
    const { db, driver } = get();
    if (driver !== 'postgres') return; // PGlite has no connections to keep them on; the answers are checked above.
    await db.transaction(async (tx) => {
      const marker = `mp_prepared_${randomUUID().slice(0, 8)}`;
      await rows(tx, sql`select ${marker}::text as prepared_marker, 1 as n`, { prepare: true });
      await rows(tx, sql`select ${marker}::text as unprepared_marker, 1 as n`);
      await tx.select({ id: users.id }).from(users).where(sql`${users.username} = ${marker}`).prepare(PREPARED).execute();
      const texts = await preparedTexts(tx);
      expect(texts.some((t) => t.includes('prepared_marker') && !t.includes('unprepared'))).toBe(true);
      expect(texts.some((t) => t.includes('unprepared_marker'))).toBe(false);
      expect(texts.some((t) => t.includes('from "users" where "users"."username" = $1'))).toBe(true);
    });
  });

  it('serve the session and the counter', async () => {
    const { db, driver } = get();
    if (driver !== 'postgres') return;
    const nowhere = randomUUID();
    await db.transaction(async (tx) => {
      const now = new Date();
      // Unknown ids: each statement runs (and is prepared) and finds nothing.
      expect(await loadSession(tx, 'no-such-token', now, { idleMinutes: 30, absoluteMinutes: 720 })).toBeNull();
      await expect(clinicDay(tx, nowhere, now)).rejects.toThrow();
      await expect(counterFacts(tx, nowhere, nowhere, now)).rejects.toThrow();
      expect(await counterClinics(tx, [nowhere])).toEqual([]);
      const texts = await preparedTexts(tx);
      const has = (fragment: string) => texts.some((t) => t.includes(fragment));
      expect(has('from "sessions" inner join "users"')).toBe(true);
      expect(has('select "time_zone", "code", "name" from "clinics"')).toBe(true);
      expect(has('p.facts_version as version')).toBe(true);
      expect(has('"clinics"."id" = any($')).toBe(true);
      expect(texts.length).toBeGreaterThanOrEqual(4);
    });
  });
});
