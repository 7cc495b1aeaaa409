// security.md "Records": the audit log is append-only (enforced by the
// database) and hash-chained, so a deleted or edited row is detectable. The
// chain is written by the sealer (migration 0022), not by the writers: an
// audit row is written in its action's transaction without waiting for any
// other, and sealed a moment later.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, openDatabase, type Db } from '../../db/client.ts';
import { auditLog, auditSeals } from '../../db/schema.ts';
import { rows } from '../../db/sql.ts';
import { audit, sealAudit, verifyAuditChain } from '../../server/services/audit.ts';
import { createPostgresDatabase, describeEachDatabase, DRIVERS, expectRejection } from '../helpers/db.ts';

const queued = async (db: Db) => (await rows<{ id: number }>(db, sql`select audit_id::int as id from audit_unsealed order by audit_id`)).map((r) => r.id);

/** Runs `body` with SQL run as someone who controls the database server: the given triggers off meanwhile. */
async function behindTheTriggers(db: Db, table: string, trigger: string, body: () => Promise<unknown>): Promise<void> {
  await db.execute(sql.raw(`alter table ${table} disable trigger ${trigger}`));
  try {
    await body();
  } finally {
    await db.execute(sql.raw(`alter table ${table} enable trigger ${trigger}`));
  }
}

/** Writes `n` audit rows and seals everything queued. */
async function writeSealed(db: Db, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await audit(db, { action: 'login', actorId: null, details: { i }, at: new Date() });
  await sealAudit(db, { wait: true });
}

describeEachDatabase('audit log', (get) => {
  it('seals every row in the order written, each seal chained to the one before', async () => {
    const { db } = get();
    await sealAudit(db, { wait: true });
    const at = new Date('2026-11-23T01:00:00Z');
    for (let i = 0; i < 5; i++) await audit(db, { action: 'login', actorId: null, details: { i }, at });
    const written = (await db.select({ id: auditLog.id }).from(auditLog).orderBy(auditLog.id)).map((r) => r.id).slice(-5);
    // Written, queued, not yet sealed.
    expect((await queued(db)).slice(-5)).toEqual(written);
    expect(await sealAudit(db, { wait: true })).toBe(5);
    expect(await queued(db)).toEqual([]);

    const seals = await db.select().from(auditSeals).orderBy(auditSeals.seq);
    expect(seals.map((s) => s.seq)).toEqual(seals.map((_, i) => i + 1));
    expect(seals.slice(-5).map((s) => s.auditId)).toEqual(written);
    for (let i = 1; i < seals.length; i++) expect(seals[i]!.prevHash).toBe(seals[i - 1]!.hash);
    expect(seals[0]!.prevHash).toBe('0'.repeat(64));
    const total = (await db.select({ id: auditLog.id }).from(auditLog)).length;
    expect(seals.length).toBe(total);
    expect(await verifyAuditChain(db)).toEqual({ ok: true, rows: total });
    // Nothing left to seal: a second pass seals nothing.
    expect(await sealAudit(db, { wait: false })).toBe(0);
  });

  it('keeps the chain whole under concurrent writers and sealers', async () => {
    const { db } = get();
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => db.transaction((tx) => audit(tx, { action: 'logout', actorId: null, details: { i }, at: new Date() }))),
      ...Array.from({ length: 5 }, (_, i) => sealAudit(db, { wait: i % 2 === 0 })),
    ]);
    expect((await verifyAuditChain(db)).ok).toBe(true);
    const [counts] = await rows<{ rows: number; seals: number }>(db, sql`select (select count(*)::int from audit_log) as rows, (select count(*)::int from audit_seals) as seals`);
    expect(counts!.seals).toBe(counts!.rows);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of rows and seals', async () => {
    const { db } = get();
    await writeSealed(db, 1);
    await expectRejection(db.execute(sql`update audit_log set action = 'logout'`), /append-only/);
    await expectRejection(db.execute(sql`delete from audit_log`), /append-only/);
    // The seals' foreign key refuses a plain TRUNCATE first; with CASCADE the triggers of both tables do.
    await expectRejection(db.execute(sql`truncate audit_log`), /referenced in a foreign key|append-only/);
    await expectRejection(db.execute(sql`truncate audit_log cascade`), /append-only/);
    await expectRejection(db.execute(sql`update audit_seals set hash = 'forged'`), /append-only/);
    await expectRejection(db.execute(sql`delete from audit_seals`), /append-only/);
    await expectRejection(db.execute(sql`truncate audit_seals`), /append-only/);
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('detects a sealed row edited behind the triggers’ back', async () => {
    const { db } = get();
    await writeSealed(db, 1);
    const [victim] = await rows<{ id: number }>(db, sql`select id::int as id from audit_log order by id limit 1 offset 2`);
    // What only someone with control of the database server could do.
    await behindTheTriggers(db, 'audit_log', 'audit_log_append_only', () => db.execute(sql`update audit_log set details = '{"tampered": true}' where id = ${victim!.id}`));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: victim!.id });
  });
});

// Each tampering below breaks its database's chain for good: one database each.
describeEachDatabase('audit log, tampered', (get) => {
  it('detects a sealed row deleted', async () => {
    const { db } = get();
    await writeSealed(db, 3);
    const [victim] = await rows<{ id: number }>(db, sql`select id::int as id from audit_log order by id limit 1 offset 1`);
    // Every trigger off, its seal's foreign key among them.
    await behindTheTriggers(db, 'audit_log', 'all', () => db.execute(sql`delete from audit_log where id = ${victim!.id}`));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: victim!.id });
  });
});

describeEachDatabase('audit log, a seal removed', (get) => {
  it('is found at the row sealed after it', async () => {
    const { db } = get();
    await writeSealed(db, 3);
    const seals = await db.select().from(auditSeals).orderBy(auditSeals.seq);
    await behindTheTriggers(db, 'audit_seals', 'audit_seals_append_only', () => db.execute(sql`delete from audit_seals where seq = ${seals[1]!.seq}`));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: seals[2]!.auditId });
  });
});

describeEachDatabase('audit log, a row kept out of the chain', (get) => {
  it('is found: neither sealed nor queued', async () => {
    const { db } = get();
    await writeSealed(db, 1);
    await audit(db, { action: 'logout', actorId: null, at: new Date() });
    const [row] = await queued(db);
    // The queue is a work list, not a record: removing an entry is allowed, and shows.
    await db.execute(sql`delete from audit_unsealed where audit_id = ${row!}`);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: row });
  });
});

describeEachDatabase('audit log, several connections', (get) => {
  it('lets a writer commit while another writer’s row is not yet committed, and seals both', async (ctx) => {
    const t = get();
    if (t.driver !== 'postgres') return ctx.skip();
    const { db } = t;
    await sealAudit(db, { wait: true });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let written!: () => void;
    const wroteFirst = new Promise<void>((r) => (written = r));
    const first = db.transaction(async (tx) => {
      await audit(tx, { action: 'login', actorId: null, details: { first: true }, at: new Date() });
      written();
      await held;
    });
    await wroteFirst;
    // Under the old trigger this waited for the first transaction's commit; now it commits at once.
    const second = audit(db, { action: 'logout', actorId: null, details: { second: true }, at: new Date() });
    const outcome = await Promise.race([second.then(() => 'committed'), new Promise((r) => setTimeout(() => r('waiting'), 5_000))]);
    expect(outcome).toBe('committed');
    // The sealer seals what is committed; the open transaction's row waits for the next pass.
    expect(await sealAudit(db, { wait: false })).toBe(1);
    release();
    await first;
    expect(await sealAudit(db, { wait: false })).toBe(1);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });

  it('has one sealer at a time: one that finds another at work leaves it', async (ctx) => {
    const t = get();
    if (t.driver !== 'postgres') return ctx.skip();
    const { db } = t;
    await audit(db, { action: 'login', actorId: null, at: new Date() });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const hasLock = new Promise<void>((r) => (locked = r));
    // Another instance's sealer, at work.
    const other = db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(7340001)`);
      locked();
      await held;
    });
    await hasLock;
    expect(await sealAudit(db, { wait: false })).toBeNull();
    expect((await queued(db)).length).toBeGreaterThan(0);
    release();
    await other;
    expect(await sealAudit(db, { wait: false })).toBeGreaterThan(0);
    expect(await queued(db)).toEqual([]);
  });
});

/** Migrations 0000–0021 of the folder, as a database chained by the old trigger was migrated. */
function foldersUpTo0021(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mp-migrations-'));
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
  const journalPath = path.join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { idx: number }[] };
  journal.entries = journal.entries.filter((e) => e.idx <= 21);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

for (const driver of DRIVERS) {
  it(`migration 0022 carries the chain written by the old trigger over unchanged, and goes on from it [${driver}]`, async () => {
    const old = foldersUpTo0021();
    const created = driver === 'postgres' ? await createPostgresDatabase() : null;
    const database = await openDatabase(created ? { kind: 'postgres', url: created.url } : { kind: 'pglite', dataDir: null }, { migrate: false });
    const { db } = database;
    // As db/client.ts migrates: PGlite on its one connection, PostgreSQL on a connection of the migrator's own.
    const migrate = async (folder: string) => {
      if (!created) return migratePglite(db as unknown as PgliteDatabase<Record<string, never>>, { migrationsFolder: folder });
      const client = postgres(created.url, { max: 1, onnotice: () => {} });
      try {
        await migratePostgres(drizzlePostgres(client), { migrationsFolder: folder });
      } finally {
        await client.end();
      }
    };
    const close = async () => {
      await database.close();
      await created?.drop();
    };
    try {
      await migrate(old);
      for (let i = 0; i < 4; i++) await db.execute(sql`insert into audit_log (action, details, at) values ('login', ${JSON.stringify({ i })}::jsonb, now())`);
      const before = await rows<{ id: number; seq: number; prev_hash: string; hash: string }>(db, sql`select id::int as id, seq::int as seq, prev_hash, hash from audit_log order by seq`);
      expect(before.map((r) => r.seq)).toEqual([1, 2, 3, 4]);

      await migrate(MIGRATIONS_FOLDER);
      const seals = await rows<{ seq: number; audit_id: number; prev_hash: string; hash: string }>(db, sql`select seq::int as seq, audit_id::int as audit_id, prev_hash, hash from audit_seals order by seq`);
      expect(seals).toEqual(before.map((r) => ({ seq: r.seq, audit_id: r.id, prev_hash: r.prev_hash, hash: r.hash })));
      expect(await verifyAuditChain(db)).toEqual({ ok: true, rows: 4 });
      await audit(db, { action: 'logout', actorId: null, at: new Date() });
      expect(await verifyAuditChain(db)).toEqual({ ok: true, rows: 5 });
      const [fifth] = await db.select().from(auditSeals).where(sql`${auditSeals.seq} = 5`);
      expect(fifth!.prevHash).toBe(before[3]!.hash);
    } finally {
      await close();
      rmSync(old, { recursive: true, force: true });
    }
  });
}
