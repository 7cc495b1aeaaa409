// Raw SQL results differ by driver (PGlite: { rows }, postgres.js: an array).
// Every raw query goes through here so the rest of the code sees one shape.
import type { SQL } from 'drizzle-orm';
import type { Db } from './client.ts';

export async function rows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
