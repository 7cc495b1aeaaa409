// security.md "Faults": pg_dump restores to identical row counts and a
// verifying audit chain. The README's own commands (Backups), on the demo with
// some audit rows sealed and some still queued when the dump is taken.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Db } from '../../db/client.ts';
import { ensureAdminUnits } from '../../db/reference-data.ts';
import { seedDemo } from '../../db/seed.ts';
import { rows } from '../../db/sql.ts';
import { audit, sealAudit, verifyAuditChain } from '../../server/services/audit.ts';
import { ensureDefaultRuleSet } from '../../server/services/rule-sets.ts';
import { createPostgresDatabase } from '../helpers/db.ts';

const run = promisify(execFile);

/** Every table of the schema with its row count. */
async function rowCounts(db: Db): Promise<Record<string, number>> {
  const tables = await rows<{ name: string }>(db, sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`);
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [r] = await rows<{ n: number }>(db, sql`select count(*)::int as n from ${sql.identifier(name)}`);
    counts[name] = r!.n;
  }
  return counts;
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe.runIf(process.env.TEST_DATABASE_URL)('backup and restore [postgres]', () => {
  it('restores with pg_restore to the same row counts and an audit chain that verifies and goes on', async () => {
    const source = await createPostgresDatabase();
    cleanups.push(source.drop);
    const target = await createPostgresDatabase();
    cleanups.push(target.drop);
    const dir = mkdtempSync(path.join(tmpdir(), 'mp-backup-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));

    const from: Database = await openDatabase({ kind: 'postgres', url: source.url });
    cleanups.push(() => from.close());
    await ensureAdminUnits(from.db);
    await ensureDefaultRuleSet(from.db);
    expect(await seedDemo(from.db, 'demo-pass-1234', new Date())).toBe(true);
    expect(await sealAudit(from.db, { wait: true })).toBeGreaterThan(0);
    // Written since the last seal: still queued when the dump is taken.
    for (let i = 0; i < 3; i++) await audit(from.db, { action: 'login', actorId: null, details: { i }, at: new Date() });
    const [queued] = await rows<{ n: number }>(from.db, sql`select count(*)::int as n from audit_unsealed`);
    expect(queued!.n).toBe(3);
    const before = await rowCounts(from.db);
    expect(before.doses).toBeGreaterThan(0);

    // The README's commands.
    const file = path.join(dir, 'methadone.dump');
    await run('pg_dump', ['--format=custom', `--file=${file}`, source.url]);
    await run('pg_restore', ['--clean', '--if-exists', `--dbname=${target.url}`, file]);

    const to: Database = await openDatabase({ kind: 'postgres', url: target.url });
    cleanups.push(() => to.close());
    expect(await rowCounts(to.db)).toEqual(before);
    // The queued rows are sealed after the restore, and the chain verifies whole.
    expect(await verifyAuditChain(to.db)).toEqual({ ok: true, rows: before.audit_log });
    // And the restored database goes on: a new row takes a new id, its seal follows the last.
    await audit(to.db, { action: 'logout', actorId: null, at: new Date() });
    expect(await verifyAuditChain(to.db)).toEqual({ ok: true, rows: before.audit_log! + 1 });
  }, 120_000);
});
