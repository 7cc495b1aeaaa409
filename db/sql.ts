// Raw SQL results differ by driver (PGlite: { rows }, postgres.js: an array).
// Every raw query goes through here so the rest of the code sees one shape.
import type { SQL } from 'drizzle-orm';
import type { Db } from './client.ts';

/** A PostgreSQL array literal ('{"a","b"}') for one bound parameter, cast in the query (`::uuid[]`, `::text[]`); both drivers take it. */
export function pgArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

export interface RowsOptions {
  /**
   * Run as a prepared statement (see `PREPARED`): for the short statements
   * every request repeats (the counter's facts, a dose's write). Never for
   * report or day-close SQL: its best plan depends on its parameters, and it
   * runs too seldom for planning to matter.
   */
  prepare?: boolean;
}

export async function rows<T extends Record<string, unknown>>(db: Db, query: SQL, opts: RowsOptions = {}): Promise<T[]> {
  const result = (await (opts.prepare ? executePrepared(db, query) : db.execute(query))) as unknown;
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/**
 * The name drizzle wants for a prepared statement (`builder.prepare(PREPARED)`).
 * postgres.js keeps each statement text parsed on its connection under a name
 * of its own and PGlite ignores it, so one name serves every statement. On
 * PostgreSQL a prepared statement skips parsing, and after five runs
 * PostgreSQL may keep a generic plan: for the counter's short statements the
 * planning was most of their time (a card's facts: 2.3 ms planned, 0.6 ms run).
 */
export const PREPARED = 'mp';

/** What drizzle's own `db.execute` does, asking for a prepared statement (drizzle has no public form of this for raw SQL). */
interface DrizzleInternals {
  dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
  session: { prepareQuery(query: { sql: string; params: unknown[] }, fields: undefined, name: string, isResponseInArrayMode: boolean): { execute(): Promise<unknown> } };
}

function executePrepared(db: Db, query: SQL): Promise<unknown> {
  const { dialect, session } = db as unknown as DrizzleInternals;
  return session.prepareQuery(dialect.sqlToQuery(query), undefined, PREPARED, false).execute();
}
