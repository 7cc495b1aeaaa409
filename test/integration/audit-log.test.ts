// security.md "Records": the audit log is append-only (enforced by the
// database) and hash-chained, so a deleted or edited row is detectable.
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { auditLog } from '../../db/schema.ts';
import { rows } from '../../db/sql.ts';
import { audit, verifyAuditChain } from '../../server/services/audit.ts';
import { describeEachDatabase, expectRejection } from '../helpers/db.ts';

describeEachDatabase('audit log', (get) => {
  it('chains every row to the one before, with gapless sequence numbers', async () => {
    const { db } = get();
    const at = new Date('2026-11-23T01:00:00Z');
    for (let i = 0; i < 5; i++) await audit(db, { action: 'login', actorId: null, details: { i }, at });
    const all = await db.select().from(auditLog).orderBy(auditLog.seq);
    expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
    for (let i = 1; i < all.length; i++) expect(all[i]!.prevHash).toBe(all[i - 1]!.hash);
    expect(all[0]!.prevHash).toBe('0'.repeat(64));
    expect(await verifyAuditChain(db)).toEqual({ ok: true, rows: all.length });
  });

  it('keeps the chain whole under concurrent writers', async () => {
    const { db } = get();
    await Promise.all(Array.from({ length: 20 }, (_, i) => db.transaction((tx) => audit(tx, { action: 'logout', actorId: null, details: { i }, at: new Date() }))));
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('refuses UPDATE, DELETE and TRUNCATE', async () => {
    const { db } = get();
    await audit(db, { action: 'login', actorId: null, at: new Date() });
    await expectRejection(db.execute(sql`update audit_log set action = 'logout'`), /append-only/);
    await expectRejection(db.execute(sql`delete from audit_log`), /append-only/);
    await expectRejection(db.execute(sql`truncate audit_log`), /append-only/);
    // A forged seq or hash given by the writer is replaced by the trigger's own.
    await db.insert(auditLog).values({ action: 'login', seq: 999_999, hash: 'forged', prevHash: 'forged', at: new Date() });
    expect((await verifyAuditChain(db)).ok).toBe(true);
  });

  it('detects a row edited or deleted behind the triggers’ back', async () => {
    const { db } = get();
    await audit(db, { action: 'login', actorId: null, at: new Date() });
    const [victim] = await rows<{ seq: number }>(db, sql`select seq from audit_log order by seq limit 1 offset 2`);
    // What only someone with control of the database server could do.
    await db.execute(sql`alter table audit_log disable trigger audit_log_append_only`);
    await db.execute(sql`update audit_log set details = '{"tampered": true}' where seq = ${victim!.seq}`);
    await db.execute(sql`alter table audit_log enable trigger audit_log_append_only`);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAtSeq: Number(victim!.seq) });
  });
});
