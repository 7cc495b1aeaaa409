// Raw SQL results differ by driver (PGlite: { rows }, postgres.js: an array).
// Every raw query goes through here so the rest of the code sees one shape.
import type { SQL } from 'drizzle-orm';
import type { Db } from './client.ts';

/** A PostgreSQL array literal ('{"a","b"}') for one bound parameter, cast in the query (`::uuid[]`, `::text[]`); both drivers take it. */
export function pgArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

export async function rows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
