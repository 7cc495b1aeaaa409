// Alerts by e-mail, against a real SMTP server (smtp-server on a local port):
// the message says who, since when, the phone and the clinic in the
// recipient's language and nothing more sensitive; a server that refuses
// (451) for a while gets the message again after the back-off, once.
import type { AddressInfo } from 'node:net';
import { eq, inArray } from 'drizzle-orm';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { alerts, outbox, patients, users } from '../../db/schema.ts';
import { FixedClock } from '../../server/clock.ts';
import { emailChannel } from '../../server/jobs/channels.ts';
import { attemptsOf, deliverDue, deliveryLog, type OutboxPolicy } from '../../server/jobs/outbox.ts';
import { closeDay } from '../../server/services/day-close.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser } from '../helpers/fixtures.ts';
import { addPatient, cover, logContactRow } from '../helpers/follow-up.ts';

const POLICY: OutboxPolicy = { batch: 50, retryBaseMs: 1000, retryMaxMs: 60_000, maxAttempts: 5, claimMs: 30_000 };
/** 18:00 in Hà Nội on 2026-11-23, after the clinic's closing time. */
const CLOSE_AT = '2026-11-23T11:00:00Z';
const DAY = '2026-11-23';
const NOTHING = { delivered: 0, retried: 0, failed: 0, cancelled: 0 };

// ---- the SMTP server ------------------------------------------------------

type Received = { from: string; to: string[]; raw: string };
const received: Received[] = [];
/** Attempts the server refuses with 451 at RCPT TO, then at DATA. */
const refuse = { rcpt: 0, data: 0 };

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onRcptTo(_address, _session, cb) {
    if (refuse.rcpt > 0) {
      refuse.rcpt--;
      return cb(smtpError('Mailbox busy, try again later', 451));
    }
    cb();
  },
  onData(stream, session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      if (refuse.data > 0) {
        refuse.data--;
        return cb(smtpError('Local problem, try again later', 451));
      }
      received.push({
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((r) => r.address),
        raw: Buffer.concat(chunks).toString('utf8'),
      });
      cb();
    });
  },
});
let smtpUrl = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  smtpUrl = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received.length = 0;
  refuse.rcpt = 0;
  refuse.data = 0;
});

// ---- reading a message as a mail client would (one text/plain part) --------

/** Bytes of quoted-printable text (or a Q-encoded word when `q`). */
function qpBytes(s: string, q = false): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '=' && /^[0-9A-F]{2}$/i.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(q && ch === '_' ? 0x20 : ch.charCodeAt(0));
  }
  return Buffer.from(out);
}

/** A header value with its RFC 2047 encoded words decoded (adjacent words joined as bytes). */
function decodeWords(value: string): string {
  const parts = value.split(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)/);
  let text = '';
  let pending: Buffer[] = [];
  parts.forEach((part, i) => {
    const word = /^=\?[^?]+\?([QqBb])\?([^?]*)\?=$/.exec(part);
    if (word) pending.push(word[1]!.toUpperCase() === 'B' ? Buffer.from(word[2]!, 'base64') : qpBytes(word[2]!, true));
    else if (/^\s*$/.test(part) && i > 0 && i < parts.length - 1) return; // blank between two words
    else {
      text += Buffer.concat(pending).toString('utf8') + part;
      pending = [];
    }
  });
  return text + Buffer.concat(pending).toString('utf8');
}

function parseMail(raw: string): { headers: Record<string, string>; subject: string; text: string } {
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
  }
  const cte = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text =
    cte === 'quoted-printable' ? qpBytes(body.replace(/=\r?\n/g, '')).toString('utf8') : cte === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : body;
  return { headers, subject: decodeWords(headers['subject'] ?? ''), text: text.replace(/\r\n/g, '\n') };
}

// ---- the tests ---------------------------------------------------------------

describeEachDatabase('delivery by e-mail (SMTP)', (get) => {
  /** A clinic whose counsellors are told by e-mail, and their patients last covered on 2026-11-19 (4 missed days at the close of 2026-11-23). */
  async function raise(people: { locale: 'vi' | 'en'; email: string; patient: { fullName: string; phone: string } }[]) {
    const { db } = get();
    const clock = new FixedClock(new Date(CLOSE_AT));
    const clinic = await makeClinic(db, { name: 'Cơ sở Ngô Quyền' });
    const nurse = await makeUser(db, 'nurse', [clinic.id]);
    const out = [];
    for (const p of people) {
      const couns = await makeUser(db, 'counsellor', [clinic.id]);
      await db.update(users).set({ email: p.email, notifyEmail: true, locale: p.locale }).where(eq(users.id, couns.id));
      const patient = await addPatient(db, { clinicId: clinic.id, clinicCode: clinic.code, startDate: '2026-10-01', counsellorId: couns.id, ...p.patient });
      await cover(db, patient, '2026-11-19', { givenBy: nurse.id });
      out.push({ couns, patient });
    }
    const closed = await closeDay({ db, clock }, clinic.id, DAY, null, { email: true, webhook: false });
    expect(closed?.raised.counsellor).toBe(people.length);
    const alertIds = (await db.select().from(alerts).where(eq(alerts.clinicId, clinic.id))).map((a) => a.id);
    const rows = await db.select().from(outbox).where(inArray(outbox.alertId, alertIds));
    expect(rows.map((r) => r.channel)).toEqual(people.map(() => 'email'));
    return { db, clock, clinic, nurse, people: out, rows };
  }
  const rowOf = async (id: string) => (await get().db.select().from(outbox).where(eq(outbox.id, id)))[0]!;

  it("says who, since when, the phone and the clinic in the recipient's language, and nothing more sensitive", async () => {
    const { db, clock, clinic, people, rows } = await raise([
      { locale: 'vi', email: 'tu.van.vien@example.vn', patient: { fullName: 'Trần Thị Bình', phone: '0987 654 321' } },
      { locale: 'en', email: 'counsellor.en@example.org', patient: { fullName: 'Lê Văn Cường', phone: '0911 222 333' } },
    ]);
    const [vi, en] = people;
    // What the message must never carry: HIV status, national ID, a contact's note, the address, the next of kin.
    await db
      .update(patients)
      .set({ hivStatus: 'positive', nationalId: '001234567890', street: '12 Lạch Tray', nextOfKinName: 'Trần Văn Kin', nextOfKinPhone: '0900 000 999' })
      .where(eq(patients.id, vi!.patient.id));
    const note = 'Đã tái sử dụng heroin, đang điều trị lao';
    await logContactRow(db, vi!.patient, { by: vi!.couns.id, at: new Date('2026-11-21T03:00:00Z'), outcome: 'unreachable', note });

    const channel = emailChannel(smtpUrl, 'Methadone Point <methadone-point@localhost>');
    try {
      expect(await deliverDue({ db, clock }, { email: channel }, POLICY)).toEqual({ ...NOTHING, delivered: 2 });
      expect(received.length).toBe(2);
      expect(await deliverDue({ db, clock }, { email: channel }, POLICY)).toEqual(NOTHING);
    } finally {
      channel.close();
    }
    expect(received.length).toBe(2);

    const clinicText = `Cơ sở Ngô Quyền (${clinic.code})`;
    const expectations = [
      {
        who: vi!,
        email: 'tu.van.vien@example.vn',
        subject: `[Methadone Point] Cần tư vấn viên liên hệ: ${vi!.patient.code} bỏ 4 ngày liên tiếp`,
        body: ['Người bệnh: Trần Thị Bình', `(${vi!.patient.code})`, 'Bỏ liều 4 ngày liên tiếp, từ ngày 2026-11-20', 'Điện thoại: 0987 654 321', `Cơ sở điều trị: ${clinicText}`],
        foreign: ['Patient:', 'Lê Văn Cường', en!.patient.code],
      },
      {
        who: en!,
        email: 'counsellor.en@example.org',
        subject: `[Methadone Point] Counsellor to contact: ${en!.patient.code} missed 4 days in a row`,
        body: ['Patient: Lê Văn Cường', `(${en!.patient.code})`, 'Missed 4 days in a row, since 2026-11-20', 'Phone: 0911 222 333', `Clinic: ${clinicText}`],
        foreign: ['Người bệnh:', 'Trần Thị Bình', vi!.patient.code],
      },
    ];
    for (const x of expectations) {
      const got = received.filter((r) => r.to.includes(x.email));
      expect(got.length).toBe(1);
      expect(got[0]!.to).toEqual([x.email]);
      expect(got[0]!.from).toBe('methadone-point@localhost');
      const mail = parseMail(got[0]!.raw);
      const row = rows.find((r) => r.userId === x.who.couns.id)!;
      expect(mail.headers['to']).toBe(x.email);
      expect(mail.headers['x-mp-delivery']).toBe(row.id);
      expect(mail.headers['x-mp-alert']).toBe(row.alertId);
      expect(mail.subject).toBe(x.subject);
      for (const s of x.body) expect(mail.text).toContain(s);
      // Not the other language, not the other patient.
      for (const s of x.foreign) expect(mail.subject + mail.text).not.toContain(s);
      const all = got[0]!.raw + mail.subject + mail.text;
      for (const secret of ['001234567890', 'positive', 'HIV', note, 'heroin', '12 Lạch Tray', 'Trần Văn Kin', '0900 000 999', '1980-05-05']) expect(all).not.toContain(secret);
    }

    // The delivery log: each row delivered at the first attempt with the server's answer, and no patient data.
    for (const r of rows) {
      expect(await rowOf(r.id)).toMatchObject({ status: 'delivered', attempts: 1, lastError: '', claimedUntil: null, deliveredAt: new Date(CLOSE_AT) });
      const log = await attemptsOf(db, r.id);
      expect(log.length).toBe(1);
      expect(log[0]!.ok).toBe(true);
      expect(log[0]!.detail).toMatch(/^250 /);
    }
    const adminLog = (await deliveryLog(db)).filter((l) => rows.some((r) => r.id === l.id));
    expect(adminLog.map((l) => [l.channel, l.status, l.attempts, l.clinic_code, l.level]).sort()).toEqual([
      ['email', 'delivered', 1, clinic.code, 'counsellor'],
      ['email', 'delivered', 1, clinic.code, 'counsellor'],
    ]);
    expect(JSON.stringify(adminLog)).not.toMatch(/Trần Thị Bình|Lê Văn Cường|0987 654 321/);
  });

  it('a server refusing with 451 for a while gets the message after the back-off, once', async () => {
    const { db, clock, rows } = await raise([{ locale: 'vi', email: 'retry@example.vn', patient: { fullName: 'Phạm Văn Dũng', phone: '0933 444 555' } }]);
    const row = rows[0]!;
    const t0 = clock.now().getTime();
    refuse.rcpt = 2;
    refuse.data = 1;
    const channel = emailChannel(smtpUrl, 'Methadone Point <methadone-point@localhost>');
    const pass = () => deliverDue({ db, clock }, { email: channel }, POLICY);
    try {
      // 1st attempt: 451 at RCPT TO; next in 1 s.
      expect(await pass()).toEqual({ ...NOTHING, retried: 1 });
      expect(await rowOf(row.id)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'SMTP 451', nextAttemptAt: new Date(t0 + 1000), claimedUntil: null });
      clock.advance(999);
      expect(await pass()).toEqual(NOTHING);
      clock.advance(1);
      // 2nd: 451 at RCPT TO again; next in 2 s.
      expect(await pass()).toEqual({ ...NOTHING, retried: 1 });
      expect(await rowOf(row.id)).toMatchObject({ status: 'pending', attempts: 2, nextAttemptAt: new Date(t0 + 3000) });
      clock.advance(1999);
      expect(await pass()).toEqual(NOTHING);
      clock.advance(1);
      // 3rd: the recipient is taken, the data refused (451); next in 4 s.
      expect(await pass()).toEqual({ ...NOTHING, retried: 1 });
      expect(await rowOf(row.id)).toMatchObject({ status: 'pending', attempts: 3, lastError: 'SMTP 451', nextAttemptAt: new Date(t0 + 7000) });
      expect(received.length).toBe(0);
      clock.advance(4000);
      // 4th: accepted.
      expect(await pass()).toEqual({ ...NOTHING, delivered: 1 });
      clock.advance(3_600_000);
      expect(await pass()).toEqual(NOTHING);
    } finally {
      channel.close();
    }
    expect(refuse).toEqual({ rcpt: 0, data: 0 });
    expect(received.length).toBe(1);
    expect(received[0]!.to).toEqual(['retry@example.vn']);
    expect(parseMail(received[0]!.raw).text).toContain('Phạm Văn Dũng');
    expect(await rowOf(row.id)).toMatchObject({ status: 'delivered', attempts: 4, lastError: '', deliveredAt: new Date(t0 + 7000) });
    const log = await attemptsOf(db, row.id);
    expect(log.map((a) => [a.ok, a.detail.replace(/^250 .*/, '250')])).toEqual([
      [false, 'SMTP 451'],
      [false, 'SMTP 451'],
      [false, 'SMTP 451'],
      [true, '250'],
    ]);
    expect(log.map((a) => new Date(a.at).getTime() - t0)).toEqual([0, 1000, 3000, 7000]);
  });
});
