// security.md "Inputs": every form route, fuzzed with arbitrary fields and
// values, answers with a 4xx or success — never a 500 or a stack trace — and
// writes nothing on a 4xx.
import { count, eq, getTableName, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { alerts, auditLog, checkIns, clinics, contacts, dayCloses, doseReviews, doses, episodes, inbox, outbox, patients, pumpEvents, pumps, sessions, swallowChecks, userClinics, users, type Role } from '../../db/schema.ts';
import { rows } from '../../db/sql.ts';
import { can, PUBLIC, ROUTE_ACCESS } from '../../server/auth/permissions.ts';
import { serviceDay } from '../../server/clock.ts';
import { addDays } from '../../server/dosing/days.ts';
import { closeDueDays } from '../../server/services/day-close.ts';
import { makeTestApp } from '../helpers/app.ts';
import { ORIGIN } from '../helpers/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';
import { addPatient } from '../helpers/follow-up.ts';

const NASTY = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '1e309',
  '-1e309',
  '80,5',
  '٨٠',
  'NaN',
  '-0',
  '9'.repeat(400),
  'x'.repeat(100_000),
  "'; drop table users; --",
  "' or '1'='1",
  '<script>alert(1)</script>',
  '<a hx-get="/logout" hx-trigger="load">',
  '{{7*7}}',
  '../../etc/passwd',
  '%00',
  '\uD800',
  '😀👩‍⚕️',
  '阮文安',
  'Nguyễn Văn An',
  'true',
  'false',
  'null',
  '00000000-0000-0000-0000-000000000000',
  'facility',
  'satellite',
  'nurse',
  'admin',
  '31',
  '11329',
  'Asia/Ho_Chi_Minh',
];
const FIELDS = ['code', 'name', 'kind', 'parentId', 'provinceCode', 'communeCode', 'address', 'timeZone', 'active', 'username', 'fullName', 'role', 'clinicIds', 'password', 'current', 'next', 'confirm', 'lang', 'back', '__proto__', 'constructor', 'x'.repeat(300)];
/** The counter's and the doctor's form fields. */
const COUNTER_FIELDS = ['clinic', 'patient', 'requestId', 'part', 'mg', 'intoxication', 'finding', 'breathAlcohol', 'outcome', 'dose', 'days', 'kind', 'maxMg', 'note', 'reason', 'q', 'pump', 'decision', 'ml', 'measured', 'serial', 'path', 'baudRate', 'expectedSerial', 'clinicId'];
const COUNTER_VALUES = ['none', 'signs', 'suspected', 'intoxicated', 'given', 'refused', 'vomited', 'spilled', 'swallowed', 'diversion', 'resume', 'reduced', 'no_dose', '1', '2', '0', '80', '0,25', 'req-00000001', 'top_up', 'partial', 'withhold', 'not_given', '9600', '10', '200.1', '/dev/ttyUSB0', 'SIM-0001'];
/** The follow-up forms' fields (contact, dropout ruling, day close, alert channels) and values they take. */
const FOLLOWUP_FIELDS = ['patient', 'method', 'outcome', 'returnDate', 'holdUntil', 'nextActionDate', 'note', 'clinic', 'counsellor', 'bucket', 'decision', 'email', 'notifyEmail', 'notifyWebhook', 'webhookTo', '__proto__'];
const FOLLOWUP_VALUES = ['phone', 'home_visit', 'reached', 'unreachable', 'hospital', 'custody', 'deceased', 'confirm', 'reject', 'on', 'all', 'd2_4', '2020-01-01', '31/02/2026', '2026-13-45', 'lan@example.org', 'a@b', '+84 912 000 111'];
/** Who sends a route's fuzz: a role allowed to (so the handler runs, not just the 403), the admin first. */
const SENDERS: Role[] = ['admin', 'doctor', 'nurse', 'manager', 'counsellor'];

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describeEachDatabase('fuzzed forms', (get) => {
  it('every POST route answers 2xx/3xx/4xx to random input (a pump action with no pump: 503), never another 5xx, and a refusal writes nothing', async () => {
    const { db } = get();
    const { app, clock } = makeTestApp(db);
    const clinic = await makeClinic(db);
    const target = await makeUser(db, 'nurse', [clinic.id]);
    const senders = new Map<Role, string>();
    for (const role of SENDERS) senders.set(role, role === 'nurse' ? target.id : (await makeUser(db, role, [clinic.id])).id);
    // Follow-up: a patient 40 days away (closing today proposes a dropout), a message that failed to leave.
    const today = serviceDay(clock.now(), clinic.timeZone);
    const missing = await addPatient(db, { clinicId: clinic.id, clinicCode: clinic.code, startDate: addDays(today, -40) });
    await closeDueDays({ db, clock }, { email: false, webhook: false }, { clinicIds: [clinic.id], throughToday: true });
    const [dropout] = await db.select().from(alerts).where(eq(alerts.level, 'dropout'));
    const [failed] = await db.insert(outbox).values({ alertId: dropout!.id, userId: senders.get('counsellor')!, channel: 'email', status: 'failed', nextAttemptAt: clock.now() }).returning();
    /** A valid form of each follow-up route, which the fuzz then overrides field by field (the last value of a field wins). */
    const followupBase = (path: string): Record<string, string> =>
      path === '/followup/contact'
        ? { patient: missing.id, method: 'phone', outcome: 'unreachable', nextActionDate: addDays(today, 1), note: '', counsellor: 'all' }
        : path.startsWith('/followup/dropouts/')
          ? { decision: 'reject', note: '' }
          : path === '/followup/closes'
            ? { clinic: clinic.id }
            : path === '/account/alerts'
              ? { email: 'lan@example.org', notifyEmail: 'on' }
              : {};
    const rand = rng(20261123);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const postRoutes = Object.keys(ROUTE_ACCESS).filter((r) => r.startsWith('POST ') && r !== 'POST /logout');
    // Every table a form writes, counted in one round trip (a query per table per request is slow on PGlite).
    const tables = [clinics, users, userClinics, auditLog, patients, doses, checkIns, doseReviews, swallowChecks, contacts, alerts, dayCloses, episodes, inbox, outbox, pumps, pumpEvents].map((t) => getTableName(t));
    // A pump of the clinic (no line here: every device action must answer 4xx/503 and write nothing).
    const [pump] = await db.insert(pumps).values({ clinicId: clinic.id, name: 'Bơm 1', path: '/dev/null-pump', expectedSerial: 'SIM-0001' }).returning();
    const countAll = sql.raw(`select ${tables.map((n, i) => `(select count(*) from "${n}")::int as n${i}`).join(', ')}`);
    const counts = async () => Object.values((await rows(db, countAll))[0]!).map(Number);
    const problems: string[] = [];
    for (const route of postRoutes) {
      const path = route.slice(5).replace('/pumps/:id', `/pumps/${pump!.id}`).replace(':clinicId', clinic.id).replace(':userId', target.id).replace(':alertId', dropout!.id).replace(':outboxId', failed!.id).replace(/:\w+Id/, '00000000-0000-4000-8000-000000000000');
      const access = ROUTE_ACCESS[route]!;
      const role = SENDERS.find((r) => access === PUBLIC || can(r, access))!;
      const followup = /^POST \/(followup|account\/alerts|admin\/deliveries)\b/.test(route);
      const fields = followup ? FOLLOWUP_FIELDS : [...FIELDS, ...COUNTER_FIELDS];
      const values = followup ? [...NASTY, ...FOLLOWUP_VALUES, addDays(today, 1), addDays(today, -1), clinic.id, missing.id] : [...NASTY, ...COUNTER_VALUES, clinic.id];
      for (let i = 0; i < 25; i++) {
        const body = new URLSearchParams(followup ? followupBase(path) : {});
        const n = 1 + Math.floor(rand() * 8);
        for (let f = 0; f < n; f++) body.append(pick(fields), pick(values));
        const { token, csrfToken } = await sessionFor(db, senders.get(role)!);
        body.append('_csrf', csrfToken);
        const before = await counts();
        const res = await app.request(`${ORIGIN}${path}`, {
          method: 'POST',
          headers: { cookie: `mp_session=${token}`, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `10.9.${i}.1` },
          body: body.toString(),
        });
        const text = await res.text();
        // 503 is the one 5xx a form may answer: a pump's action with no pump on the line (style.md: device unavailable).
        const deviceAway = res.status === 503 && route.startsWith('POST /pumps/');
        if (res.status >= 500 && !deviceAway) problems.push(`${route} #${i}: ${res.status} for ${body.toString().slice(0, 200)}`);
        if (/\n\s+at\s+\S+/.test(text)) problems.push(`${route} #${i}: stack trace in the page`);
        // A refused login is itself recorded (throttling, audit): that is the one 4xx that writes.
        if (((res.status >= 400 && res.status < 500) || deviceAway) && route !== 'POST /login') {
          const after = await counts();
          if (after.join() !== before.join()) problems.push(`${route} #${i}: ${res.status} but wrote (${before} → ${after})`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The admin's own session table was touched by every request, nothing else leaked.
    expect(Number((await db.select({ n: count() }).from(sessions))[0]!.n)).toBeGreaterThan(0);
  }, 240_000);
});
