// The bench database: PGlite in memory, or a fresh database on the PostgreSQL
// server of BENCH_DATABASE_URL (created here, dropped at the end). Reference
// data and the demo (clinics and one account per role) are loaded into it.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openDatabase, type Database, type Db } from '../../db/client.ts';
import { ensureAdminUnits } from '../../db/reference-data.ts';
import { seedDemo } from '../../db/seed.ts';
import { startSessionCache } from '../../server/auth/session-cache.ts';
import { rebuildCoverage } from '../../db/synthetic.ts';
import { sql } from 'drizzle-orm';

export const BENCH_PASSWORD = 'bench-pass-1234';

export interface BenchDatabase {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** For the report: where the figures come from (no credentials). */
  label: string;
}

export interface OpenedBenchDatabase extends BenchDatabase {
  /** Closes the connection and, on PostgreSQL, drops the database. */
  close(): Promise<void>;
}

// As test/helpers/db.ts; not imported from there, which loads vitest.
function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function openBenchDatabase(serverUrl: string | undefined): Promise<OpenedBenchDatabase> {
  let database: Database;
  let label: string;
  let drop = async () => {};
  if (serverUrl) {
    const name = `mp_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
    try {
      await admin.unsafe(`create database "${name}"`);
    } finally {
      await admin.end({ timeout: 5 });
    }
    drop = async () => {
      const a = postgres(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
      try {
        await a.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await a.end({ timeout: 5 });
      }
    };
    const u = new URL(serverUrl);
    label = `postgres ${u.hostname}:${u.port || '5432'}/${name}`;
    try {
      database = await openDatabase({ kind: 'postgres', url: withDatabaseName(serverUrl, name) });
    } catch (e) {
      await drop();
      throw e;
    }
  } else {
    database = await openDatabase({ kind: 'pglite', dataDir: null });
    label = 'pglite (in memory)';
  }
  const close = async () => {
    try {
      await database.close();
    } finally {
      await drop();
    }
  };
  try {
    await ensureAdminUnits(database.db);
    await seedDemo(database.db, BENCH_PASSWORD, new Date());
    // As the server runs (server/main.ts): sessions from memory while it hears of every change.
    await startSessionCache(database);
  } catch (e) {
    await close();
    throw e;
  }
  return { db: database.db, kind: database.kind, label, close };
}

/**
 * coverage_spans made again from every slot: the seeds load dose_slots with
 * the triggers off (session_replication_role = replica), which keep it.
 */
export async function rebuildCoverageAll(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local work_mem = '256MB'`);
    await rebuildCoverage(tx, null);
  });
}
