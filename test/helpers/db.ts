// Every database test is written once and runs on PGlite, and on the
// PostgreSQL named by TEST_DATABASE_URL when it is set (CI sets it). Each run
// gets its own database (PGlite in memory; a fresh PostgreSQL database that is
// dropped afterwards), so tests never see each other.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe } from 'vitest';
import { openDatabase, type Database, type Db } from '../../db/client.ts';
import { ensureAdminUnits } from '../../db/reference-data.ts';
import { ensureDefaultRuleSet } from '../../server/services/rule-sets.ts';

export type Driver = 'pglite' | 'postgres';

export const DRIVERS: Driver[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  driver: Driver;
  db: Db;
  /** For PostgreSQL: the URL of this test's own database. */
  url: string | null;
  listen: Database['listen'];
  close(): Promise<void>;
}

export function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates an empty PostgreSQL database on the TEST_DATABASE_URL server; returns its URL and a drop function. */
export async function createPostgresDatabase(prefix = 'mp_test'): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) throw new Error('TEST_DATABASE_URL is not set');
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  return {
    url: withDatabaseName(base, name),
    drop: async () => {
      const a = postgres(base, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}

export async function createTestDatabase(driver: Driver): Promise<TestDatabase> {
  let database: Database;
  let drop = async () => {};
  let url: string | null = null;
  if (driver === 'pglite') {
    database = await openDatabase({ kind: 'pglite', dataDir: null });
  } else {
    const created = await createPostgresDatabase();
    url = created.url;
    drop = created.drop;
    database = await openDatabase({ kind: 'postgres', url });
  }
  await ensureAdminUnits(database.db);
  await ensureDefaultRuleSet(database.db);
  return {
    driver,
    db: database.db,
    url,
    listen: database.listen,
    close: async () => {
      await database.close();
      await drop();
    },
  };
}

/** Declares the suite once per driver; `get()` gives that driver's database inside the tests. */
export function describeEachDatabase(name: string, body: (get: () => TestDatabase) => void): void {
  for (const driver of DRIVERS) {
    describe(`${name} [${driver}]`, () => {
      let t: TestDatabase | undefined;
      beforeAll(async () => {
        t = await createTestDatabase(driver);
      });
      afterAll(async () => {
        await t?.close();
      });
      body(() => {
        if (!t) throw new Error('test database not ready');
        return t;
      });
    });
  }
}

/** An error's message with its causes' (drizzle wraps the driver's error). */
export function fullMessage(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, i = 0; cur && i < 5; i++) {
    parts.push(cur instanceof Error ? cur.message : String(cur));
    cur = (cur as { cause?: unknown }).cause;
  }
  return parts.join(' | ');
}

/** Expects a promise to fail with a message (anywhere in the cause chain) matching `re`. */
export async function expectRejection(p: Promise<unknown>, re: RegExp): Promise<void> {
  let error: unknown = null;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  if (error === null) throw new Error(`expected a rejection matching ${re}, but it resolved`);
  if (!re.test(fullMessage(error))) throw new Error(`expected a rejection matching ${re}, got: ${fullMessage(error)}`);
}
