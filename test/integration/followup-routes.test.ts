// The follow-up pages over HTTP (issue 5): the counsellor's missed-dose list
// after a day close (facts to call, buckets, filters by clinic, satellite
// point and counsellor, scoping), contacts moving a patient down the list,
// holds, the contact form's errors, notes only for those who may read them,
// the English UI, the alert badge, the manager's dropout rulings and "close
// now", one's alert channels, and the admin's delivery log and retry.
import { and, eq, isNull } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { alerts, auditLog, dayCloses, episodes, inbox, outbox, outboxAttempts, sessions, userClinics, users } from '../../db/schema.ts';
import { addDays } from '../../server/dosing/days.ts';
import { formatDay } from '../../views/format.ts';
import { messages } from '../../views/i18n/index.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { addPatient, cover, type TestPatient } from '../helpers/follow-up.ts';
import { ago, followupWorld, NOW, TODAY } from '../helpers/followup-world.ts';

const t = messages('vi');
const en = messages('en');
/** Text as it appears in the HTML (hono escapes & < > " '). */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const NOTE = 'Mẹ nghe máy: "nó đi làm ở Hà Nội" <đừng báo công an>';

interface Card {
  code: string;
  patient: string;
  state: string;
  missed: number;
  html: string;
}
/** The list's cards in order, each with its class (needs-action, contacted, on-hold) and its HTML. */
function cards(html: string): Card[] {
  const found = [...html.matchAll(/<li class="card missed ([\w-]+)" id="missed-([^"]+)" data-patient="([^"]+)" data-missed="(\d+)">/g)];
  return found.map((m, i) => ({ state: m[1]!, code: m[2]!, patient: m[3]!, missed: Number(m[4]), html: html.slice(m.index, found[i + 1]?.index ?? html.indexOf('</ol>', m.index)) }));
}
const codes = (html: string) => cards(html).map((c) => c.code);
const card = (html: string, p: { code: string }) => cards(html).find((c) => c.code === p.code)?.html ?? `(no card ${p.code})`;
/** The numbers beside the bucket links: all, today, 2–4, 5–13, 14+. */
function bucketCounts(html: string, m = t): number[] {
  const nav = /<nav class="buckets"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
  return [m.fu_bucket_all, m.fu_bucket_today, m.fu_bucket_d2_4, m.fu_bucket_d5_13, m.fu_bucket_d14].map((label) => Number(new RegExp(`>${esc(label)} \\((\\d+)\\)<`).exec(nav)?.[1] ?? -1));
}

describeEachDatabase('follow-up pages over HTTP', (get) => {
  const setup = () => followupWorld(get().db);

  it('after the day close: who did not come, most urgent first, with phones, address, next of kin, last dose, days missed and alert level', async () => {
    const w = await setup();
    const lan = await w.client(w.lan);
    // Before today's close, the list counts through yesterday: A (missed only today) is not on it, and no alert is raised yet.
    const before = await lan.get('/followup?counsellor=all');
    expect(before.res.status).toBe(200);
    expect(codes(before.html)).toEqual([w.d, w.c, w.b, w.s].map((p) => p.code));
    expect(cards(before.html).map((x) => x.missed)).toEqual([14, 5, 2, 1]);
    expect(before.html).not.toContain('class="badge level-');

    await w.close();
    const { html } = await lan.get('/followup?counsellor=all');
    const list = cards(html);
    // Highest alert level first (doctor, counsellor, missed), then most days missed.
    expect(list.map((x) => x.code)).toEqual([w.d, w.c, w.b, w.s, w.a].map((p) => p.code));
    expect(list.map((x) => x.missed)).toEqual([15, 6, 3, 2, 1]);
    expect(list.map((x) => x.state)).toEqual(Array(5).fill('needs-action'));
    expect(list.map((x) => /class="badge level-(\w+)"/.exec(x.html)?.[1])).toEqual(['doctor', 'doctor', 'counsellor', 'missed', 'missed']);
    expect(html).not.toContain(w.came.code);
    expect(html).not.toContain(w.elsewhere.code);

    const d = card(html, w.d);
    for (const s of [w.d.fullName, w.d.phone, w.d.street, w.d.nextOfKinName, w.d.nextOfKinPhone, t.fu_missed_days({ n: 15 }), t.alert_level_doctor, t.fu_since({ day: formatDay(ago(14)) }), t.fu_no_contact, w.binh.fullName, w.d.phone2])
      expect(d).toContain(esc(s));
    expect(d).toContain(`href="tel:${w.d.phone.replace(/\D/g, '')}"`);
    expect(d).toContain(`href="tel:${w.d.nextOfKinPhone.replace(/\D/g, '')}"`);
    expect(d).toMatch(new RegExp(`${esc(t.fu_last_dose)}</dt>\\s*<dd>${formatDay(ago(15))}</dd>`));
    expect(card(html, w.c)).toContain(esc(`${w.facility.code} · ${t.fu_counsellor_none}`));
    expect(card(html, w.s)).toContain(esc(t.alert_level_missed));

    expect(bucketCounts(html)).toEqual([5, 1, 2, 1, 1]);
    const mid = await lan.get('/followup?counsellor=all&bucket=d2_4');
    expect(codes(mid.html)).toEqual([w.b.code, w.s.code]);
    expect(bucketCounts(mid.html)).toEqual([5, 1, 2, 1, 1]);
    expect(codes((await lan.get('/followup?counsellor=all&bucket=d14')).html)).toEqual([w.d.code]);
    expect(codes((await lan.get('/followup?counsellor=all&bucket=today')).html)).toEqual([w.a.code]);
    // An unknown bucket is no filter.
    expect(codes((await lan.get('/followup?counsellor=all&bucket=d99')).html)).toHaveLength(5);
  });

  it('filters: a counsellor starts on her own patients; none, all, one counsellor, a clinic, a satellite point', async () => {
    const w = await setup();
    await w.close();
    const lan = await w.client(w.lan);
    const own = await lan.get('/followup');
    expect(codes(own.html)).toEqual([w.b, w.s, w.a].map((p) => p.code));
    expect(own.html).toMatch(new RegExp(`<option value="${w.lan.id}" selected`));
    expect(codes((await lan.get('/followup?counsellor=none')).html)).toEqual([w.c.code]);
    expect(codes((await lan.get(`/followup?counsellor=${w.binh.id}`)).html)).toEqual([w.d.code]);
    expect(codes((await lan.get('/followup?counsellor=all')).html)).toHaveLength(5);
    // A counsellor of another clinic is no filter at all.
    expect(codes((await lan.get(`/followup?counsellor=${w.outsider.id}`)).html)).toHaveLength(5);

    const sat = await lan.get(`/followup?counsellor=all&clinic=${w.satellite.id}`);
    expect(codes(sat.html)).toEqual([w.s.code]);
    expect(bucketCounts(sat.html)).toEqual([1, 0, 1, 0, 0]);
    expect(sat.html).toContain(esc(`(${t.fu_satellite})`));
    expect(codes((await lan.get(`/followup?counsellor=all&clinic=${w.facility.id}`)).html)).toEqual([w.d, w.c, w.b, w.a].map((p) => p.code));
    expect(codes((await lan.get(`/followup?clinic=${w.satellite.id}`)).html)).toEqual([w.s.code]);

    // Chi has no patients of her own, a nurse is not a counsellor: both start on everyone.
    expect(codes((await (await w.client(w.chi)).get('/followup')).html)).toHaveLength(5);
    expect(codes((await (await w.client(w.nurse)).get('/followup')).html)).toHaveLength(5);
    expect(codes((await (await w.client(w.binh)).get('/followup')).html)).toEqual([w.d.code]);
  });

  it("scoping: another clinic's patient never appears, and a contact for them is 404 with nothing written", async () => {
    const w = await setup();
    await w.close();
    const lan = await w.client(w.lan);
    for (const q of ['', '?counsellor=all', `?clinic=${w.other.id}&counsellor=all`, `?counsellor=${w.outsider.id}`]) {
      const { html } = await lan.get(`/followup${q}`);
      expect(html).not.toContain(w.elsewhere.code);
      expect(html).not.toContain(esc(w.elsewhere.fullName));
    }
    const audits = (await w.db.select().from(auditLog)).length;
    const res = await lan.post('/followup/contact', w.contact(w.elsewhere, { nextActionDate: addDays(TODAY, 1), note: 'thử' }));
    expect(res.res.status).toBe(404);
    // An invalid form for them re-renders the list without them.
    const bad = await lan.post('/followup/contact', w.contact(w.elsewhere, { outcome: 'hospital' }));
    expect(bad.res.status).toBe(422);
    expect(bad.html).not.toContain(w.elsewhere.code);
    expect(await w.contactsOf(w.elsewhere)).toEqual([]);
    expect((await w.db.select().from(auditLog)).length).toBe(audits);
    // Their own counsellor sees them.
    expect(codes((await (await w.client(w.outsider)).get('/followup')).html)).toEqual([w.elsewhere.code]);
  });

  it('a contact moves the patient down; hospital needs a future date (422, what was typed kept); a hold goes last with its badge', async () => {
    const w = await setup();
    await w.close();
    const lan = await w.client(w.lan);
    await lan.get('/followup?counsellor=all');
    const saved = await lan.post('/followup/contact', w.contact(w.d, { nextActionDate: addDays(TODAY, 1), note: NOTE }));
    expect(saved.res.status).toBe(303);
    expect(saved.res.headers.get('location')).toBe('/followup?counsellor=all#missed-list');
    let page = await lan.get('/followup?counsellor=all');
    expect(page.html).toContain(esc(t.fu_contact_saved));
    expect(codes(page.html)).toEqual([w.c, w.b, w.s, w.a, w.d].map((p) => p.code));
    expect(cards(page.html).map((x) => x.state)).toEqual(['needs-action', 'needs-action', 'needs-action', 'needs-action', 'contacted']);
    expect(card(page.html, w.d)).toContain(esc(t.contact_outcome_unreachable));
    expect(card(page.html, w.d)).toContain(esc(t.fu_next_action({ day: formatDay(addDays(TODAY, 1)) })));
    const [row] = await w.contactsOf(w.d);
    expect(row).toMatchObject({ outcome: 'unreachable', method: 'phone', nextActionDate: addDays(TODAY, 1), holdUntil: null, note: NOTE, by: w.lan.id, clinicId: w.facility.id });
    expect(await w.db.select().from(auditLog).where(and(eq(auditLog.action, 'contact_log'), eq(auditLog.entityId, row!.id)))).toHaveLength(1);

    // Hospital without a date: the form comes back open on that card, with the catalogue's message and what was typed.
    const typed = 'Nằm viện Việt Tiệp, khoa Nội: "gặp vợ"';
    const noDate = await lan.post('/followup/contact', w.contact(w.c, { method: 'home_visit', outcome: 'hospital', note: typed }));
    expect(noDate.res.status).toBe(422);
    const open = card(noDate.html, w.c);
    expect(open).toContain('<details class="contact" open');
    expect(open).toContain(esc(t.fu_err_hold_required));
    expect(open).toMatch(/<textarea[^>]*name="note"[^>]*>\s*Nằm viện Việt Tiệp, khoa Nội: &quot;gặp vợ&quot;\s*<\/textarea>/);
    expect(open).toMatch(/<option value="hospital" selected/);
    expect(open).toMatch(/<option value="home_visit" selected/);
    expect(open).toMatch(/name="holdUntil" type="date" value="" aria-describedby="[^"]+" aria-invalid="true"/);
    // Only that card is open.
    expect(card(noDate.html, w.b)).not.toContain('<details class="contact" open');
    // A hold in the past, a return date in the past: refused the same way.
    const past = await lan.post('/followup/contact', w.contact(w.c, { outcome: 'hospital', holdUntil: ago(1), note: typed }));
    expect(past.res.status).toBe(422);
    expect(card(past.html, w.c)).toContain(esc(t.fu_err_date_past));
    expect(card(past.html, w.c)).toContain(`value="${ago(1)}"`);
    const pastReturn = await lan.post('/followup/contact', w.contact(w.b, { outcome: 'reached', returnDate: ago(2) }));
    expect(pastReturn.res.status).toBe(422);
    expect(card(pastReturn.html, w.b)).toContain(esc(t.fu_err_date_past));
    expect(await w.contactsOf(w.c)).toEqual([]);
    expect(await w.contactsOf(w.b)).toEqual([]);

    // In hospital until a future day: on hold, at the end, with the badge.
    const until = addDays(TODAY, 5);
    expect((await lan.post('/followup/contact', w.contact(w.c, { method: 'home_visit', outcome: 'hospital', holdUntil: until, note: typed }))).res.status).toBe(303);
    page = await lan.get('/followup?counsellor=all');
    expect(codes(page.html)).toEqual([w.b, w.s, w.a, w.d, w.c].map((p) => p.code));
    expect(cards(page.html).at(-1)!.state).toBe('on-hold');
    expect(card(page.html, w.c)).toContain(`<span class="badge hold">${esc(t.fu_on_hold({ day: formatDay(until) }))}</span>`);
    // "Reached, will return tomorrow" leaves the top too.
    expect((await lan.post('/followup/contact', w.contact(w.a, { outcome: 'reached', returnDate: addDays(TODAY, 1) }))).res.status).toBe(303);
    page = await lan.get('/followup?counsellor=all');
    expect(cards(page.html).map((x) => `${x.code}:${x.state}`)).toEqual([`${w.b.code}:needs-action`, `${w.s.code}:needs-action`, `${w.d.code}:contacted`, `${w.a.code}:contacted`, `${w.c.code}:on-hold`]);
  });

  it('contact notes: shown to the counsellor and the doctor, absent from the HTML for the nurse and the manager', async () => {
    const w = await setup();
    await w.close();
    const lan = await w.client(w.lan);
    await lan.get('/followup');
    expect((await lan.post('/followup/contact', w.contact(w.d, { nextActionDate: addDays(TODAY, 2), note: NOTE }))).res.status).toBe(303);
    for (const [who, sees] of [[w.lan, true], [w.doctor, true], [w.nurse, false], [w.manager, false]] as const) {
      const { res, html } = await (await w.client(who)).get(`/patients/${w.d.id}`);
      expect(res.status).toBe(200);
      const section = /<section[^>]*id="follow-up"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
      expect(section, who.role).toContain(esc(t.contact_outcome_unreachable));
      expect(section).toContain(esc(t.alert_level_doctor));
      expect(html.includes(esc(NOTE)), `${who.role} sees the note`).toBe(sees);
      expect(html).not.toContain(NOTE);
      expect(html.includes('đi làm ở Hà Nội')).toBe(sees);
    }
  });

  it('in English: the list, its errors and the patient page speak English', async () => {
    const w = await setup();
    await w.close();
    await w.db.update(users).set({ locale: 'en' }).where(eq(users.id, w.lan.id));
    const lan = await w.client(w.lan);
    const { html } = await lan.get('/followup?counsellor=all');
    for (const s of [en.fu_title, en.fu_missed_days({ n: 15 }), en.alert_level_doctor, en.fu_log_contact, en.fu_no_contact]) expect(html).toContain(esc(s));
    const form = await lan.get(`/followup/contact-form?patient=${w.d.id}&counsellor=all`, { 'hx-request': 'true' });
    for (const s of [en.fu_method, en.contact_outcome_hospital, en.fu_save_contact]) expect(form.html).toContain(esc(s));
    expect(bucketCounts(html, en)).toEqual([5, 1, 2, 1, 1]);
    expect(html).not.toContain(esc(t.fu_title));
    const bad = await lan.post('/followup/contact', w.contact(w.c, { outcome: 'custody', note: 'in custody' }));
    expect(bad.res.status).toBe(422);
    expect(card(bad.html, w.c)).toContain(esc(en.fu_err_hold_required));
    const patient = await lan.get(`/patients/${w.d.id}`);
    expect(patient.html).toContain(esc(en.pfu_title));
    expect(patient.html).toContain(esc(en.alert_level_doctor));
  });

  it('the alert badge counts unread messages; "mark all read" clears it for oneself only', async () => {
    const w = await setup();
    await w.close();
    const unread = async (userId: string) => (await w.db.select().from(inbox).where(and(eq(inbox.userId, userId), isNull(inbox.readAt)))).length;
    // Lan hears of B (her patient, 3 days) and of C (no counsellor: every counsellor of the facility) at two levels; D is Bình's.
    expect(await unread(w.lan.id)).toBe(3);
    const lan = await w.client(w.lan);
    const badge = await lan.get('/alerts/badge');
    expect(badge.res.status).toBe(200);
    expect(badge.html).toBe(`<span class="badge count" aria-label="${esc(t.alerts_unread({ n: 3 }))}">3</span>`);
    const page = await lan.get('/alerts');
    expect(page.html.match(/class="card alert unread open"/g)).toHaveLength(3);
    expect(page.html).toContain(w.b.code);
    expect(page.html).toContain(w.c.code);
    expect(page.html).not.toContain(w.d.code);
    const read = await lan.post('/alerts/read', {});
    expect(read.res.status).toBe(303);
    expect(read.res.headers.get('location')).toBe('/alerts');
    expect((await lan.get('/alerts/badge')).html).toBe('<span></span>');
    expect(await unread(w.lan.id)).toBe(0);
    expect(await unread(w.binh.id)).toBeGreaterThan(0);
    expect((await (await w.client(w.binh)).get('/alerts/badge')).html).toContain('class="badge count"');
    expect((await (await w.client(w.nurse)).get('/alerts/badge')).res.status).toBe(403);
  });

  it('the manager confirms one proposed dropout (episode ends dropped_out) and rejects another; others get 403, another clinic 404', async () => {
    const w = await setup();
    const x1 = await w.patient({ fullName: 'Xuân Văn Một', lastCovered: 31 });
    const x2 = await w.patient({ fullName: 'Xuân Văn Hai', lastCovered: 40 });
    const x3 = await w.patient({ fullName: 'Xuân Văn Ba', lastCovered: 35 });
    await w.close();
    const dropoutOf = async (p: TestPatient) => (await w.db.select().from(alerts).where(and(eq(alerts.patientId, p.id), eq(alerts.level, 'dropout'))))[0]!;
    const episodeOf = async (p: TestPatient) => (await w.db.select().from(episodes).where(eq(episodes.id, p.episodeId)))[0]!;
    const mgr = await w.client(w.manager);
    const list = await mgr.get('/followup/dropouts');
    expect(list.res.status).toBe(200);
    for (const p of [x1, x2, x3]) expect(list.html).toContain(`id="dropout-${p.code}"`);
    expect(list.html).not.toContain(`id="dropout-${w.d.code}"`);

    for (const role of [w.lan, w.doctor, w.nurse]) {
      const c = await w.client(role);
      expect((await c.get('/followup/dropouts')).res.status).toBe(403);
      expect((await c.post(`/followup/dropouts/${(await dropoutOf(x3)).id}`, { decision: 'confirm', note: '' })).res.status).toBe(403);
    }
    const om = await w.client(w.otherManager);
    await om.get('/followup/dropouts');
    expect((await om.post(`/followup/dropouts/${(await dropoutOf(x3)).id}`, { decision: 'confirm', note: '' })).res.status).toBe(404);
    expect((await dropoutOf(x3)).closedAt).toBeNull();
    expect((await episodeOf(x3)).endDate).toBeNull();

    const confirmed = await mgr.post(`/followup/dropouts/${(await dropoutOf(x1)).id}`, { decision: 'confirm', note: 'Gia đình báo đã chuyển vào Nam' });
    expect(confirmed.res.status).toBe(303);
    expect(confirmed.res.headers.get('location')).toBe('/followup/dropouts');
    expect((await mgr.get('/followup/dropouts')).html).toContain(esc(t.fu_dropout_confirmed));
    expect(await episodeOf(x1)).toMatchObject({ endDate: TODAY, endReason: 'dropped_out' });
    expect(await dropoutOf(x1)).toMatchObject({ closedAs: 'dropout_confirmed', closedBy: w.manager.id });

    expect((await mgr.post(`/followup/dropouts/${(await dropoutOf(x2)).id}`, { decision: 'reject', note: '' })).res.status).toBe(303);
    expect((await mgr.get('/followup/dropouts')).html).toContain(esc(t.fu_dropout_rejected));
    expect(await dropoutOf(x2)).toMatchObject({ closedAs: 'dropout_rejected', closedBy: w.manager.id });
    expect((await episodeOf(x2)).endDate).toBeNull();
    expect(await w.db.select().from(auditLog).where(and(eq(auditLog.action, 'dropout_confirm'), eq(auditLog.actorId, w.manager.id)))).toHaveLength(1);
    expect(await w.db.select().from(auditLog).where(and(eq(auditLog.action, 'dropout_reject'), eq(auditLog.actorId, w.manager.id)))).toHaveLength(1);

    // Ruled once: a second ruling is a conflict; the ended episode is off the missed list, the rejected one stays.
    expect((await mgr.post(`/followup/dropouts/${(await dropoutOf(x1)).id}`, { decision: 'reject', note: '' })).res.status).toBe(409);
    const after = await mgr.get('/followup/dropouts');
    expect(after.html).not.toContain(`id="dropout-${x1.code}"`);
    expect(after.html).not.toContain(`id="dropout-${x2.code}"`);
    expect(after.html).toContain(`id="dropout-${x3.code}"`);
    const missed = await mgr.get('/followup');
    expect(missed.html).not.toContain(`id="missed-${x1.code}"`);
    expect(missed.html).toContain(`id="missed-${x2.code}"`);
    const maybe = await mgr.post(`/followup/dropouts/${(await dropoutOf(x3)).id}`, { decision: 'maybe', note: 'kept' });
    expect(maybe.res.status).toBe(422);
    expect(maybe.html).toContain('kept');
  });

  it('"close now": the manager closes today (day_closes with run_by, an audit row); twice closes nothing; others refused', async () => {
    const w = await setup();
    const mgr = await w.client(w.manager);
    const page = await mgr.get('/followup/closes');
    expect(page.html).toContain('action="/followup/closes"');
    expect(page.html).toContain(esc(t.closes_empty));
    const nurse = await w.client(w.nurse);
    const seen = await nurse.get('/followup/closes');
    expect(seen.res.status).toBe(200);
    expect(seen.html).not.toContain('action="/followup/closes"');
    expect((await nurse.post('/followup/closes', { clinic: w.facility.id })).res.status).toBe(403);
    expect((await mgr.post('/followup/closes', { clinic: w.other.id })).res.status).toBe(404);
    expect(await w.db.select().from(dayCloses).where(eq(dayCloses.clinicId, w.facility.id))).toEqual([]);
    expect(await w.db.select().from(dayCloses).where(eq(dayCloses.clinicId, w.other.id))).toEqual([]);

    const run = await mgr.post('/followup/closes', { clinic: w.facility.id });
    expect(run.res.status).toBe(303);
    expect(run.res.headers.get('location')).toBe('/followup/closes');
    const done = await mgr.get('/followup/closes');
    expect(done.html).toContain(esc(t.fu_closed_now({ n: 1 })));
    expect(done.html).toContain(esc(w.manager.fullName));
    const rows = await w.db.select().from(dayCloses).where(eq(dayCloses.clinicId, w.facility.id));
    // D, C, B, A and the one who came today: five open episodes counted.
    expect(rows).toMatchObject([{ serviceDay: TODAY, runBy: w.manager.id, patients: 5 }]);
    const audited = await w.db.select().from(auditLog).where(and(eq(auditLog.action, 'day_close'), eq(auditLog.entityId, w.facility.id)));
    expect(audited).toMatchObject([{ actorId: w.manager.id, clinicId: w.facility.id, details: { serviceDay: TODAY } }]);
    // The satellite was not asked for.
    expect(await w.db.select().from(dayCloses).where(eq(dayCloses.clinicId, w.satellite.id))).toEqual([]);

    expect((await mgr.post('/followup/closes', { clinic: w.facility.id })).res.status).toBe(303);
    expect((await mgr.get('/followup/closes')).html).toContain(esc(t.fu_nothing_to_close));
    expect(await w.db.select().from(dayCloses).where(eq(dayCloses.clinicId, w.facility.id))).toHaveLength(1);
  });

  it("one's alert channels: notifyEmail without an e-mail is 422 with what was typed; saved ones come back", async () => {
    const w = await setup();
    const lan = await w.client(w.lan);
    expect((await lan.get('/account/alerts')).res.status).toBe(200);
    const noEmail = await lan.post('/account/alerts', { email: '', notifyEmail: 'on', webhookTo: '+84 912 000 111', notifyWebhook: 'on' });
    expect(noEmail.res.status).toBe(422);
    expect(noEmail.html).toContain(esc(t.fu_err_email_required));
    expect(noEmail.html).toMatch(/name="notifyEmail" checked/);
    expect(noEmail.html).toMatch(/name="notifyWebhook" checked/);
    expect(noEmail.html).toContain('value="+84 912 000 111"');
    const bad = await lan.post('/account/alerts', { email: 'lan@', notifyEmail: '', webhookTo: '', notifyWebhook: 'on' });
    expect(bad.res.status).toBe(422);
    expect(bad.html).toContain(esc(t.fu_err_email));
    expect(bad.html).toContain(esc(t.fu_err_webhook_to_required));
    expect(bad.html).toContain('value="lan@"');
    const [unchanged] = await w.db.select().from(users).where(eq(users.id, w.lan.id));
    expect(unchanged).toMatchObject({ email: '', notifyEmail: false, notifyWebhook: false, webhookTo: '' });
    expect(await w.db.select().from(auditLog).where(and(eq(auditLog.action, 'notify_settings'), eq(auditLog.actorId, w.lan.id)))).toEqual([]);

    const ok = await lan.post('/account/alerts', { email: ' lan@example.org ', notifyEmail: 'on', webhookTo: '+84 912 000 111', notifyWebhook: 'on' });
    expect(ok.res.status).toBe(303);
    const [saved] = await w.db.select().from(users).where(eq(users.id, w.lan.id));
    expect(saved).toMatchObject({ email: 'lan@example.org', notifyEmail: true, notifyWebhook: true, webhookTo: '+84 912 000 111' });
    expect(await w.db.select().from(auditLog).where(and(eq(auditLog.action, 'notify_settings'), eq(auditLog.actorId, w.lan.id)))).toHaveLength(1);
    const again = await lan.get('/account/alerts');
    expect(again.html).toContain(esc(t.fu_settings_saved));
    expect(again.html).toContain('value="lan@example.org"');
    expect(again.html).toMatch(/name="notifyEmail" checked/);
    // Turning e-mail off keeps the address.
    expect((await lan.post('/account/alerts', { email: 'lan@example.org', webhookTo: '' })).res.status).toBe(303);
    expect((await w.db.select().from(users).where(eq(users.id, w.lan.id)))[0]).toMatchObject({ email: 'lan@example.org', notifyEmail: false, notifyWebhook: false });
    expect((await (await w.client(w.nurse)).get('/account/alerts')).res.status).toBe(403);
  });

  it("the admin's delivery log shows no patient data; retry turns a failed message pending", async () => {
    const w = await setup();
    await w.close();
    const [alert] = await w.db.select().from(alerts).where(and(eq(alerts.patientId, w.b.id), eq(alerts.level, 'counsellor')));
    const [failed] = await w.db
      .insert(outbox)
      .values({ alertId: alert!.id, userId: w.lan.id, channel: 'email', status: 'failed', attempts: 48, nextAttemptAt: NOW, lastError: 'ECONNREFUSED 127.0.0.1:25' })
      .returning();
    const [pending] = await w.db.insert(outbox).values({ alertId: alert!.id, userId: w.lan.id, channel: 'webhook', nextAttemptAt: NOW }).returning();
    await w.db.insert(outboxAttempts).values({ outboxId: failed!.id, at: NOW, ok: false, detail: 'ECONNREFUSED 127.0.0.1:25' });

    const adm = await w.client(w.admin);
    const { res, html } = await adm.get('/admin/deliveries');
    expect(res.status).toBe(200);
    expect(html).toMatch(new RegExp(`<tr data-status="failed">[\\s\\S]*?${w.lan.username}[\\s\\S]*?/admin/deliveries/${failed!.id}/retry`));
    expect(html).toContain(esc(`${t.alert_level_counsellor} · ${w.facility.code}`));
    for (const p of [w.a, w.b, w.c, w.d, w.s]) {
      expect(html).not.toContain(esc(p.fullName));
      expect(html).not.toContain(p.code);
      expect(html).not.toContain(p.phone);
    }
    const shown = await adm.get(`/admin/deliveries?status=failed&show=${failed!.id}`);
    expect(shown.html).toContain(`${esc(t.deliveries_failed_attempt)}: ECONNREFUSED 127.0.0.1:25`);
    expect(shown.html).not.toContain('data-status="pending"');
    expect(shown.html).not.toContain(esc(w.b.fullName));

    expect((await (await w.client(w.manager)).post(`/admin/deliveries/${failed!.id}/retry`, {})).res.status).toBe(403);
    const retry = await adm.post(`/admin/deliveries/${failed!.id}/retry`, {});
    expect(retry.res.status).toBe(303);
    expect(retry.res.headers.get('location')).toBe('/admin/deliveries?status=failed');
    expect((await adm.get('/admin/deliveries?status=failed')).html).toContain(esc(t.fu_retry_queued));
    const [row] = await w.db.select().from(outbox).where(eq(outbox.id, failed!.id));
    expect(row).toMatchObject({ status: 'pending', attempts: 0, claimedUntil: null });
    expect(row!.nextAttemptAt.getTime()).toBe(NOW.getTime());
    expect(await w.db.select().from(auditLog).where(and(eq(auditLog.action, 'outbox_retry'), eq(auditLog.entityId, failed!.id)))).toHaveLength(1);
    // Its attempts stay in the log; a message that is not failed is left alone.
    expect(await w.db.select().from(outboxAttempts).where(eq(outboxAttempts.outboxId, failed!.id))).toHaveLength(1);
    expect((await adm.post(`/admin/deliveries/${pending!.id}/retry`, {})).res.status).toBe(303);
    expect((await adm.get('/admin/deliveries?status=failed')).html).toContain(esc(t.fu_retry_not_failed));
    expect(await w.db.select().from(auditLog).where(and(eq(auditLog.action, 'outbox_retry'), eq(auditLog.entityId, pending!.id)))).toEqual([]);
  });

  it("the contact form is fetched when a card opens (a fragment for htmx, a page without script), only for one's own clinics' patients", async () => {
    const w = await setup();
    await w.close();
    const lan = await w.client(w.lan);
    const { html } = await lan.get('/followup?counsellor=all');
    // The list carries no form, only where to fetch it.
    expect(html).not.toContain('action="/followup/contact"');
    expect(card(html, w.d)).toContain(`hx-get="/followup/contact-form?patient=${w.d.id}`);
    const fragment = await lan.get(`/followup/contact-form?patient=${w.d.id}&counsellor=all`, { 'hx-request': 'true' });
    expect(fragment.res.status).toBe(200);
    expect(fragment.html).toContain('action="/followup/contact"');
    expect(fragment.html).not.toContain('<html');
    const page = await lan.get(`/followup/contact-form?patient=${w.d.id}&counsellor=all`);
    expect(page.html).toContain('<html');
    expect(page.html).toContain(esc(w.d.code));
    expect((await lan.get(`/followup/contact-form?patient=${w.elsewhere.id}`)).res.status).toBe(404);
    expect((await (await w.client(w.manager)).get(`/followup/contact-form?patient=${w.d.id}`)).res.status).toBe(403);
  });

  it('a long list comes a page at a time, most urgent first; a failed contact opens on the page of its card', async () => {
    const w = await setup();
    for (let i = 0; i < 55; i++) {
      const p = await addPatient(w.db, { clinicId: w.facility.id, startDate: ago(60), counsellorId: w.lan.id, fullName: 'Người Bệnh Thêm' });
      await cover(w.db, p, ago(2 + (i % 20)), { givenBy: w.nurse.id });
    }
    await w.close();
    const lan = await w.client(w.lan);
    const first = await lan.get(`/followup?clinic=${w.facility.id}&counsellor=all`);
    const all = cards(first.html).length;
    expect(all).toBe(50);
    expect(first.html).toContain(esc(t.fu_page_of({ page: 1, pages: 2 })));
    const second = await lan.get(`/followup?clinic=${w.facility.id}&counsellor=all&page=2`);
    const rest = cards(second.html);
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.every((r) => !codes(first.html).includes(r.code))).toBe(true);
    // The least urgent are on the last page: fewer days missed than anyone on the first.
    expect(Math.max(...rest.map((r) => r.missed))).toBeLessThanOrEqual(Math.min(...cards(first.html).map((r) => r.missed)));
    const last = rest[rest.length - 1]!;
    const bad = await lan.post('/followup/contact', { ...w.contact({ id: last.patient } as TestPatient, { outcome: 'hospital' }), clinic: w.facility.id });
    expect(bad.res.status).toBe(422);
    expect(codes(bad.html)).toContain(last.code);
  });

  it('a NUL in a note never reaches the database; a hold longer than 180 days is refused; line breaks of a note are kept', async () => {
    const w = await setup();
    await w.close();
    const lan = await w.client(w.lan);
    expect((await lan.post('/followup/contact', w.contact(w.d, { note: 'gọi\u0000 lại\r\nngày mai' }))).res.status).toBe(303);
    expect((await w.contactsOf(w.d)).map((c) => c.note)).toEqual(['gọi lại\nngày mai']);
    const far = await lan.post('/followup/contact', w.contact(w.c, { outcome: 'custody', holdUntil: addDays(TODAY, 181), note: 'tạm giam' }));
    expect(far.res.status).toBe(422);
    expect(card(far.html, w.c)).toContain(esc(t.fu_err_hold_too_far));
    expect((await lan.post('/followup/contact', w.contact(w.c, { outcome: 'custody', holdUntil: addDays(TODAY, 180) }))).res.status).toBe(303);
  });

  it("the alerts of a clinic one no longer works at leave one's list and badge", async () => {
    const w = await setup();
    await w.close();
    const lan = await w.client(w.lan);
    const before = Number(/>(\d+)</.exec((await lan.get('/alerts/badge')).html)?.[1] ?? 0);
    expect(before).toBeGreaterThan(0);
    await w.db.delete(userClinics).where(eq(userClinics.userId, w.lan.id));
    expect((await lan.get('/alerts/badge')).html).not.toMatch(/>\d+</);
    expect((await lan.get('/alerts')).html).not.toContain(esc(w.d.fullName));
  });

  it("the badge's poll every minute does not keep an unattended session alive; a page does", async () => {
    const w = await setup();
    const lan = await w.client(w.lan);
    const seen = async () => (await w.db.select({ at: sessions.lastSeenAt }).from(sessions).where(eq(sessions.userId, w.lan.id)))[0]!.at.getTime();
    const start = await seen();
    for (let i = 0; i < 3; i++) {
      w.clock.advance(5 * 60_000);
      expect((await lan.get('/alerts/badge')).res.status).toBe(200);
    }
    expect(await seen()).toBe(start);
    await lan.get('/followup');
    expect(await seen()).toBe(w.clock.now().getTime());
  });
});
