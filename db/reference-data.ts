// Vietnam's administrative units since 1 July 2025 (provinces and communes, no
// districts), shipped with the code so a clinic laptop needs no download.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { count } from 'drizzle-orm';
import type { Db } from './client.ts';
import { fold } from './fold.ts';
import { communes, provinces } from './schema.ts';

export const ADMIN_UNITS_CSV = path.join(path.dirname(fileURLToPath(import.meta.url)), 'data', 'vn-admin-units-2025.csv');

export interface AdminUnits {
  provinces: { code: number; name: string; kind: string }[];
  communes: { code: number; provinceCode: number; name: string; kind: string; searchName: string }[];
}

/** Parses the NSO list (header row, six comma-separated columns, no quoting). */
export function parseAdminUnits(csv: string): AdminUnits {
  const provinceMap = new Map<number, AdminUnits['provinces'][number]>();
  const communeList: AdminUnits['communes'] = [];
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '');
  for (const [i, line] of lines.slice(1).entries()) {
    const cols = line.split(',');
    if (cols.length !== 6) throw new Error(`admin units CSV line ${i + 2}: expected 6 columns, got ${cols.length}`);
    const [pCode, pName, pKind, cCode, cName, cKind] = cols as [string, string, string, string, string, string];
    const provinceCode = Number(pCode);
    if (!provinceMap.has(provinceCode)) provinceMap.set(provinceCode, { code: provinceCode, name: pName, kind: pKind });
    communeList.push({ code: Number(cCode), provinceCode, name: cName, kind: cKind, searchName: fold(cName) });
  }
  return { provinces: [...provinceMap.values()], communes: communeList };
}

/** Loads the units into an empty database; a database that has them is left as it is. */
export async function ensureAdminUnits(db: Db): Promise<void> {
  const [row] = await db.select({ n: count() }).from(communes);
  if ((row?.n ?? 0) > 0) return;
  const units = parseAdminUnits(fs.readFileSync(ADMIN_UNITS_CSV, 'utf8'));
  await db.transaction(async (tx) => {
    await tx.insert(provinces).values(units.provinces).onConflictDoNothing();
    for (let i = 0; i < units.communes.length; i += 500) {
      await tx.insert(communes).values(units.communes.slice(i, i + 500)).onConflictDoNothing();
    }
  });
}
