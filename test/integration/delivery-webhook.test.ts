// Alerts by webhook, against a real local HTTP receiver that checks the
// HMAC-SHA256 signature of the raw body: retries with back-off, a receiver
// down for a while loses nothing and gets nothing twice, a worker that dies
// holding a claim, two workers at once, a message whose alert closed first,
// the admin's "send again", and the scheduler running the whole chain.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { alerts, dayCloses, outbox, patients, users } from '../../db/schema.ts';
import { FixedClock } from '../../server/clock.ts';
import { testConfig } from '../../server/config.ts';
import { webhookChannel } from '../../server/jobs/channels.ts';
import { attemptsOf, deliverDue, retryFailed, type Channel, type OutboxPolicy } from '../../server/jobs/outbox.ts';
import { startJobs } from '../../server/jobs/scheduler.ts';
import { silentLogger } from '../../server/log.ts';
import { closeDay } from '../../server/services/day-close.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';
import { addPatient, cover, logContactRow } from '../helpers/follow-up.ts';

const POLICY: OutboxPolicy = { batch: 50, retryBaseMs: 1000, retryMaxMs: 60_000, maxAttempts: 5, claimMs: 30_000 };
/** 18:00 in Hà Nội on 2026-11-23, after the clinics' closing time (17:00). */
const CLOSE_AT = '2026-11-23T11:00:00Z';
const DAY = '2026-11-23';
const SECRET = 'receiver-shared-secret-0123456789';
const NOTHING = { delivered: 0, retried: 0, failed: 0, cancelled: 0 };

// ---- the receiver -------------------------------------------------------------

type Request = { delivery: string; body: Record<string, unknown> | null; raw: string; status: number };
const receiver = {
  server: null as Server | null,
  port: 0,
  requests: [] as Request[],
  /** Each message is answered 500 this many times (with a good signature), then 200. */
  failFirst: 0,
  /** Goes down (connections refused) right after answering this many 200s; null: stays up. */
  downAfter: null as number | null,
  get url() {
    return `http://127.0.0.1:${this.port}/hook`;
  },
  accepted(id?: string) {
    return this.requests.filter((r) => r.status === 200 && (id === undefined || r.delivery === id));
  },
  async up() {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const given = Buffer.from(String(req.headers['x-mp-signature-256'] ?? ''));
        const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`);
        const delivery = String(req.headers['x-mp-delivery'] ?? '');
        let status = 401;
        let body: Record<string, unknown> | null = null;
        if (given.length === expected.length && timingSafeEqual(given, expected)) {
          body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
          const before = this.requests.filter((r) => r.delivery === delivery && r.status !== 401).length;
          status = before < this.failFirst ? 500 : 200;
        }
        this.requests.push({ delivery, body, raw: raw.toString('utf8'), status });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(String(status));
        if (status === 200 && this.downAfter !== null && this.accepted().length >= this.downAfter) {
          this.downAfter = null;
          res.on('finish', () => void this.down());
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  },
  async down() {
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  },
};

beforeAll(() => receiver.up());
afterAll(() => receiver.down());
beforeEach(async () => {
  if (!receiver.server) await receiver.up();
  receiver.requests.length = 0;
  receiver.failFirst = 0;
  receiver.downAfter = null;
});

// ---- alerts to deliver ----------------------------------------------------------

/** A clinic, its counsellor told by webhook, and `n` patients last covered on 2026-11-19: 4 missed days at the close of 2026-11-23. */
async function raise(t: TestDatabase, n: number, clock = new FixedClock(new Date(CLOSE_AT))) {
  const { db } = t;
  const clinic = await makeClinic(db, { name: 'Cơ sở Lê Chân' });
  const nurse = await makeUser(db, 'nurse', [clinic.id]);
  const couns = await makeUser(db, 'counsellor', [clinic.id]);
  await db.update(users).set({ notifyWebhook: true, webhookTo: '+84912000111', locale: 'en' }).where(eq(users.id, couns.id));
  const list = [];
  for (let i = 0; i < n; i++) {
    const p = await addPatient(db, { clinicId: clinic.id, clinicCode: clinic.code, startDate: '2026-10-01', counsellorId: couns.id, fullName: `Hoàng Văn Em ${i}`, phone: `0977 000 00${i}` });
    await cover(db, p, '2026-11-19', { givenBy: nurse.id });
    list.push(p);
  }
  expect((await closeDay({ db, clock }, clinic.id, DAY, null, { email: false, webhook: true }))?.raised.counsellor).toBe(n);
  const alertIds = (await db.select().from(alerts).where(eq(alerts.clinicId, clinic.id))).map((a) => a.id);
  const rows = await db.select().from(outbox).where(inArray(outbox.alertId, alertIds));
  expect(rows.length).toBe(n);
  expect(rows.every((r) => r.channel === 'webhook' && r.userId === couns.id && r.status === 'pending')).toBe(true);
  return { db, clock, clinic, couns, nurse, patients: list, rows, ids: rows.map((r) => r.id).sort() };
}

const statuses = async (t: TestDatabase, ids: string[]) => (await t.db.select().from(outbox).where(inArray(outbox.id, ids))).map((r) => r.status);
const details = async (t: TestDatabase, id: string) => (await attemptsOf(t.db, id)).map((a) => `${a.ok ? 'ok' : 'fail'} ${a.detail}`);

describeEachDatabase('delivery by webhook', (get) => {
  it('a receiver answering 500 twice gets a signed JSON body after the back-off, accepted once per message', async () => {
    const { db, clock, clinic, couns, patients: ps, rows, ids } = await raise(get(), 2);
    await db.update(patients).set({ hivStatus: 'positive', nationalId: '001234567890', street: '12 Lạch Tray' }).where(eq(patients.id, ps[0]!.id));
    await logContactRow(db, ps[0]!, { by: couns.id, at: new Date('2026-11-21T03:00:00Z'), outcome: 'unreachable', note: 'Ghi chú riêng tư về điều trị lao' });
    receiver.failFirst = 2;
    const channels = { webhook: webhookChannel(receiver.url, SECRET) };
    const pass = () => deliverDue({ db, clock }, channels, POLICY);
    const t0 = clock.now().getTime();

    expect(await pass()).toEqual({ ...NOTHING, retried: 2 });
    clock.advance(999);
    expect(await pass()).toEqual(NOTHING);
    clock.advance(1);
    expect(await pass()).toEqual({ ...NOTHING, retried: 2 });
    clock.advance(1999);
    expect(await pass()).toEqual(NOTHING);
    clock.advance(1);
    expect(await pass()).toEqual({ ...NOTHING, delivered: 2 });
    clock.advance(3_600_000);
    expect(await pass()).toEqual(NOTHING);

    expect(receiver.requests.length).toBe(6);
    for (const id of ids) {
      expect(receiver.requests.filter((r) => r.delivery === id).map((r) => [r.status, r.body?.attempt])).toEqual([
        [500, 1],
        [500, 2],
        [200, 3],
      ]);
      expect(receiver.accepted(id).length).toBe(1);
      expect(await details(get(), id)).toEqual(['fail HTTP 500', 'fail HTTP 500', 'ok HTTP 200']);
      expect((await attemptsOf(db, id)).map((a) => new Date(a.at).getTime() - t0)).toEqual([0, 1000, 3000]);
    }
    expect(await statuses(get(), ids)).toEqual(['delivered', 'delivered']);

    const first = receiver.accepted().find((r) => (r.body?.patient as { name?: string }).name === 'Hoàng Văn Em 0')!;
    const row = rows.find((r) => r.id === first.delivery)!;
    expect(Object.keys(first.body!).sort()).toEqual(['alertId', 'attempt', 'clinic', 'deliveryId', 'level', 'locale', 'missedDays', 'patient', 'sentAt', 'since', 'text', 'to', 'type']);
    expect(first.body).toMatchObject({
      type: 'alert',
      deliveryId: row.id,
      alertId: row.alertId,
      attempt: 3,
      level: 'counsellor',
      missedDays: 4,
      since: '2026-11-20',
      to: '+84912000111',
      locale: 'en',
      patient: { code: ps[0]!.code, name: 'Hoàng Văn Em 0', phone: '0977 000 000' },
      clinic: { code: clinic.code, name: 'Cơ sở Lê Chân' },
      text: `${ps[0]!.code} Hoàng Văn Em 0 missed 4 days since 2026-11-20. Tel 0977 000 000. Cơ sở Lê Chân (${clinic.code})`,
    });
    expect(Object.keys(first.body!.patient as object).sort()).toEqual(['code', 'name', 'phone']);
    expect(Object.keys(first.body!.clinic as object).sort()).toEqual(['code', 'name']);
    for (const secret of ['positive', 'hiv', '001234567890', 'Lạch Tray', 'lao', 'nationalId', '1980-05-05']) expect(first.raw.toLowerCase()).not.toContain(secret.toLowerCase());
  });

  it('a wrong secret is refused (401) until the message fails; the admin sends it again and it is delivered', async () => {
    const t = get();
    const { db, clock, ids } = await raise(t, 1);
    const id = ids[0]!;
    const wrong = { webhook: webhookChannel(receiver.url, 'not-the-receiver-secret-0000') };
    expect(await deliverDue({ db, clock }, wrong, POLICY)).toEqual({ ...NOTHING, retried: 1 });
    for (const wait of [1000, 2000, 4000]) {
      clock.advance(wait);
      expect(await deliverDue({ db, clock }, wrong, POLICY)).toEqual({ ...NOTHING, retried: 1 });
    }
    clock.advance(8000);
    expect(await deliverDue({ db, clock }, wrong, POLICY)).toEqual({ ...NOTHING, failed: 1 });
    clock.advance(3_600_000);
    expect(await deliverDue({ db, clock }, wrong, POLICY)).toEqual(NOTHING);
    expect(receiver.requests.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    expect((await db.select().from(outbox).where(eq(outbox.id, id)))[0]).toMatchObject({ status: 'failed', attempts: 5, lastError: 'HTTP 401', deliveredAt: null });
    expect(await details(t, id)).toEqual(Array(5).fill('fail HTTP 401'));

    const admin = { userId: (await makeUser(db, 'admin', [])).id, address: null };
    expect(await retryFailed({ db, clock }, admin, id)).toBe(true);
    expect(await retryFailed({ db, clock }, admin, id)).toBe(false); // pending now, not failed
    expect((await db.select().from(outbox).where(eq(outbox.id, id)))[0]).toMatchObject({ status: 'pending', attempts: 0, nextAttemptAt: clock.now() });
    expect(await deliverDue({ db, clock }, { webhook: webhookChannel(receiver.url, SECRET) }, POLICY)).toEqual({ ...NOTHING, delivered: 1 });
    expect(receiver.accepted(id).length).toBe(1);
    expect(await details(t, id)).toEqual([...Array(5).fill('fail HTTP 401'), 'ok HTTP 200']);
    expect(await retryFailed({ db, clock }, admin, id)).toBe(false); // delivered: nothing to send again
  });

  it('a receiver down for a while loses no message and gets none twice once it answered 200', async () => {
    const t = get();
    const { db, clock, ids } = await raise(t, 3);
    const channels = { webhook: webhookChannel(receiver.url, SECRET) };
    receiver.downAfter = 1; // accepts one message, then goes down
    expect(await deliverDue({ db, clock }, channels, POLICY)).toEqual({ ...NOTHING, delivered: 1, retried: 2 });
    expect(receiver.server).toBeNull();
    for (const wait of [1000, 2000]) {
      clock.advance(wait);
      expect(await deliverDue({ db, clock }, channels, POLICY)).toEqual({ ...NOTHING, retried: 2 });
    }
    await receiver.up();
    clock.advance(3999);
    expect(await deliverDue({ db, clock }, channels, POLICY)).toEqual(NOTHING);
    clock.advance(1);
    expect(await deliverDue({ db, clock }, channels, POLICY)).toEqual({ ...NOTHING, delivered: 2 });
    clock.advance(3_600_000);
    expect(await deliverDue({ db, clock }, channels, POLICY)).toEqual(NOTHING);

    expect(receiver.requests.length).toBe(3);
    for (const id of ids) expect(receiver.accepted(id).length).toBe(1);
    expect(await statuses(t, ids)).toEqual(['delivered', 'delivered', 'delivered']);
    const logs = await Promise.all(ids.map((id) => details(t, id)));
    const first = logs.filter((l) => l.length === 1);
    const later = logs.filter((l) => l.length === 4);
    expect(first).toEqual([['ok HTTP 200']]);
    expect(later.length).toBe(2);
    for (const l of later) {
      expect(l[3]).toBe('ok HTTP 200');
      // Down: refused (the very first may meet the closing socket).
      expect(l.slice(0, 3).every((d) => /^fail (ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET)$/.test(d))).toBe(true);
      expect(l.slice(1, 3)).toEqual(['fail ECONNREFUSED', 'fail ECONNREFUSED']);
    }
  });

  it('a worker that dies holding a claim: after the claim expires another sends its messages, with the same delivery id', async () => {
    const t = get();
    const { db, clock, ids } = await raise(t, 2);
    const real = webhookChannel(receiver.url, SECRET);
    // The first message goes out and is accepted, then the process "dies" before recording it.
    const dying: Channel = { send: async (m) => (await real.send(m), new Promise<string>(() => {})) };
    void deliverDue({ db, clock }, { webhook: dying }, POLICY);
    for (let i = 0; i < 200 && receiver.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(receiver.requests.length).toBe(1);
    const sentFirst = receiver.requests[0]!.delivery;
    const claims = await db.select().from(outbox).where(inArray(outbox.id, ids));
    expect(claims.map((r) => [r.status, r.attempts, r.claimedUntil?.getTime()])).toEqual(ids.map(() => ['pending', 0, clock.now().getTime() + 30_000]));

    const channels = { webhook: real };
    expect(await deliverDue({ db, clock }, channels, POLICY)).toEqual(NOTHING);
    clock.advance(30_000);
    expect(await deliverDue({ db, clock }, channels, POLICY)).toEqual(NOTHING);
    clock.advance(1);
    expect(await deliverDue({ db, clock }, channels, POLICY)).toEqual({ ...NOTHING, delivered: 2 });
    expect(await deliverDue({ db, clock }, channels, POLICY)).toEqual(NOTHING);

    // At least once: the message whose answer was lost comes again with the same delivery id (the receiver can tell).
    expect(receiver.requests.length).toBe(3);
    for (const id of ids) {
      const got = receiver.requests.filter((r) => r.delivery === id);
      expect(got.length).toBe(id === sentFirst ? 2 : 1);
      expect(got.every((r) => r.status === 200 && r.body?.deliveryId === id)).toBe(true);
      expect(await details(t, id)).toEqual(['ok HTTP 200']);
    }
    expect(await statuses(t, ids)).toEqual(['delivered', 'delivered']);
  });

  it('two workers at once never send the same message twice', async () => {
    const t = get();
    const { db, clock, ids } = await raise(t, 12);
    const channels = { webhook: webhookChannel(receiver.url, SECRET) };
    // Small batches: each worker claims again while the other is still sending what it claimed.
    const worker = async () => {
      const sum = { ...NOTHING };
      for (;;) {
        const n = await deliverDue({ db, clock }, channels, { ...POLICY, batch: 2 });
        if (n.delivered + n.retried + n.failed + n.cancelled === 0) return sum;
        for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += n[k];
      }
    };
    const [a, b] = await Promise.all([worker(), worker()]);
    expect({ ...NOTHING, delivered: a.delivered + b.delivered }).toEqual({ delivered: 12, retried: a.retried + b.retried, failed: a.failed + b.failed, cancelled: a.cancelled + b.cancelled });
    expect(receiver.requests.length).toBe(12);
    expect(new Set(receiver.requests.map((r) => r.delivery)).size).toBe(12);
    for (const id of ids) expect(await details(t, id)).toEqual(['ok HTTP 200']);
    expect(await statuses(t, ids)).toEqual(ids.map(() => 'delivered'));
  });

  it('a message whose alert closed before its first attempt is cancelled, not sent', async () => {
    const t = get();
    const { db, clock, nurse, patients: ps, ids } = await raise(t, 1);
    await cover(db, ps[0]!, '2026-11-24', { givenBy: nurse.id }); // came back: the trigger closes the alert
    expect((await db.select().from(alerts).where(eq(alerts.patientId, ps[0]!.id))).map((a) => a.closedAs)).toEqual(['returned', 'returned']);
    const channels = { webhook: webhookChannel(receiver.url, SECRET) };
    expect(await deliverDue({ db, clock }, channels, POLICY)).toEqual({ ...NOTHING, cancelled: 1 });
    clock.advance(3_600_000);
    expect(await deliverDue({ db, clock }, channels, POLICY)).toEqual(NOTHING);
    expect(receiver.requests.length).toBe(0);
    expect(await statuses(t, ids)).toEqual(['cancelled']);
    expect(await details(t, ids[0]!)).toEqual(['fail alert closed before delivery']);
  });
});

describeEachDatabase('the scheduler', (get) => {
  it('closes the day after closing time and the worker delivers to the webhook within seconds', async () => {
    const { db } = get();
    const clock = new FixedClock(new Date(CLOSE_AT));
    const clinic = await makeClinic(db, { name: 'Cơ sở Kiến An' });
    const nurse = await makeUser(db, 'nurse', [clinic.id]);
    const couns = await makeUser(db, 'counsellor', [clinic.id]);
    await db.update(users).set({ notifyWebhook: true, webhookTo: '+84912000222' }).where(eq(users.id, couns.id));
    const p = await addPatient(db, { clinicId: clinic.id, clinicCode: clinic.code, startDate: '2026-10-01', counsellorId: couns.id, fullName: 'Vũ Thị Giang', phone: '0966 111 222' });
    await cover(db, p, '2026-11-19', { givenBy: nurse.id });
    const config = testConfig({ DAY_CLOSE_CHECK_SECONDS: '1', OUTBOX_CHECK_SECONDS: '1', WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, OUTBOX_RETRY_BASE_SECONDS: '1' });
    const started = Date.now();
    const jobs = startJobs({ db, clock }, config, silentLogger);
    try {
      while (receiver.accepted().length === 0 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
      expect(receiver.accepted().length).toBe(1);
      await new Promise((r) => setTimeout(r, 1500)); // a few more ticks: nothing more is sent
    } finally {
      jobs.stop();
    }
    expect(receiver.requests.length).toBe(1);
    expect(receiver.requests[0]!.body).toMatchObject({ level: 'counsellor', missedDays: 4, since: '2026-11-20', to: '+84912000222', locale: 'vi', patient: { code: p.code, name: 'Vũ Thị Giang', phone: '0966 111 222' }, clinic: { code: clinic.code } });
    expect((await db.select().from(dayCloses).where(eq(dayCloses.clinicId, clinic.id))).map((d) => d.serviceDay)).toEqual([DAY]);
    const rows = await db.select().from(outbox);
    expect(rows.map((r) => [r.id, r.status, r.attempts, r.deliveredAt?.toISOString()])).toEqual([[receiver.requests[0]!.delivery, 'delivered', 1, CLOSE_AT.replace('Z', '.000Z')]]);
  });
});
