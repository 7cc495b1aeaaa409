// Opens the database behind one drizzle type: PGlite (embedded, the default) or
// a PostgreSQL server through postgres.js when a URL is given.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.ts';
import { acquireDataDirLock } from './datadir-lock.ts';
import { DURABLE_START_PARAMS, DurableNodeFS } from './durable-fs.ts';
import { listenPglite, listenPostgres, type ListenEvents, type StopListening } from './notifications.ts';

export type Schema = typeof schema;
/** Every service takes this: the same code runs on both drivers (and inside a transaction). */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export const MIGRATIONS_FOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export type DatabaseTarget =
  | { kind: 'pglite'; dataDir: string | null } // null: in memory (tests)
  | { kind: 'postgres'; url: string };

export interface Database {
  db: Db;
  kind: DatabaseTarget['kind'];
  /** LISTEN on a channel (db/notifications.ts); what is listening stops with close(). */
  listen(channel: string, events: ListenEvents): Promise<StopListening>;
  close(): Promise<void>;
}

/** A driver's handle as a Database: what listens on it stops (saying `down`) before the handle closes. */
function asDatabase(db: Db, kind: DatabaseTarget['kind'], listen: Database['listen'], closeHandle: () => Promise<void>): Database {
  const open = new Set<StopListening>();
  return {
    db,
    kind,
    listen: async (channel, events) => {
      const stop = await listen(channel, events);
      const once: StopListening = async () => {
        if (open.delete(once)) await stop();
      };
      open.add(once);
      return once;
    },
    close: async () => {
      await Promise.all([...open].map((stop) => stop()));
      await closeHandle();
    },
  };
}

export class DatabaseUnavailableError extends Error {}

export async function openDatabase(target: DatabaseTarget, opts: { migrate?: boolean } = {}): Promise<Database> {
  const migrate = opts.migrate ?? true;
  if (target.kind === 'pglite') {
    const release = target.dataDir ? acquireDataDirLock(target.dataDir) : () => {};
    try {
      // pg_trgm: indexed search of names without diacritics (also on the PostgreSQL server).
      const extensions = { pg_trgm };
      const client = target.dataDir
        ? await PGlite.create({ fs: new DurableNodeFS(target.dataDir), startParams: DURABLE_START_PARAMS, extensions })
        : await PGlite.create({ extensions });
      const db = drizzlePglite(client, { schema });
      if (migrate) await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
      return asDatabase(
        db as unknown as Db,
        'pglite',
        (channel, events) => listenPglite(client, channel, events),
        async () => {
          await client.close();
          release();
        },
      );
    } catch (e) {
      release();
      throw e;
    }
  }

  if (migrate) {
    // Migrations run on their own single connection, as drizzle's migrator expects.
    const migrationClient = postgres(target.url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
    try {
      await migratePostgres(drizzlePostgres(migrationClient), { migrationsFolder: MIGRATIONS_FOLDER });
    } catch (e) {
      throw asUnavailable(e);
    } finally {
      await migrationClient.end({ timeout: 5 });
    }
  }
  const client = postgres(target.url, {
    max: 10,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 60,
    // A dose is acknowledged only when it is durable, whatever the server default.
    // JIT off: the only statements costly enough for PostgreSQL to compile (the
    // reports, the day close) spend a second or more compiling and run in less.
    connection: { synchronous_commit: 'on', application_name: 'methadone-point', jit: 'off' },
  });
  const db = drizzlePostgres(client, { schema });
  return asDatabase(
    db as unknown as Db,
    'postgres',
    (channel, events) => listenPostgres(target.url, channel, events),
    () => client.end({ timeout: 5 }),
  );
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'EAI_AGAIN', '57P01', '57P02', '57P03', '3D000', '28P01', '28000', '08006', '08001', '08004']);

/** True when an error means "the database cannot be reached now", as opposed to a bad query. */
export function isUnavailable(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    // A database closed to connections (during maintenance or a restore) says 55000.
    if (code === '55000' && /not currently accepting connections/.test(String((cur as { message?: unknown }).message))) return true;
    if (cur instanceof DatabaseUnavailableError) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

function asUnavailable(e: unknown): unknown {
  return isUnavailable(e) ? new DatabaseUnavailableError(describe(e), { cause: e }) : e;
}

function describe(e: unknown): string {
  const code = (e as { code?: string }).code;
  const msg = e instanceof Error ? e.message : String(e);
  return code ? `${msg} (${code})` : msg;
}

export function targetFromConfig(cfg: { DATABASE_URL?: string | undefined; DATA_DIR: string }): DatabaseTarget {
  return cfg.DATABASE_URL ? { kind: 'postgres', url: cfg.DATABASE_URL } : { kind: 'pglite', dataDir: path.resolve(cfg.DATA_DIR) };
}
