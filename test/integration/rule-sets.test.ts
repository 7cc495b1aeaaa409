// The numbers of clinical-rules.md are data: a rule set with its parameters,
// each with its source and whether it is confirmed, chosen per clinic. A
// change is a new version effective from a date (audited), so a past decision
// is always explained with the parameters in force on its day.
import { and, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { auditLog, clinics, ruleSetVersions, users } from '../../db/schema.ts';
import { FixedClock } from '../../server/clock.ts';
import { PARAMETERS, PARAMETER_KEYS, type ParameterEntries, type ParameterKey } from '../../server/dosing/parameters.ts';
import { parseDecimal } from '../../server/routes/admin-rules.ts';
import { DEFAULT_RULE_SET_NAME, addRuleSetVersion, createRuleSet, listRuleSets, ruleSetOn, rulesForClinic, unconfirmed } from '../../server/services/rule-sets.ts';
import { en } from '../../views/i18n/en.ts';
import { vi } from '../../views/i18n/vi.ts';
import { makeTestApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/client.ts';
import { describeEachDatabase, expectRejection } from '../helpers/db.ts';
import { makeClinic, makeUser, sessionFor } from '../helpers/fixtures.ts';

// 20:00 UTC is 03:00 the next morning in Hà Nội: "today" is the 11th there, the 10th in UTC.
const NOW = new Date('2026-03-10T20:00:00Z');
const YESTERDAY = '2026-03-10';
const TODAY = '2026-03-11';
const TOMORROW = '2026-03-12';

/** The new-version form as the page fills it, with some fields changed. */
function versionForm(setId: string, entries: ParameterEntries, over: Record<string, string> = {}, locale: 'vi' | 'en' = 'vi'): Record<string, string> {
  const form: Record<string, string> = { intent: 'version', set: setId, effectiveFrom: TOMORROW, approvedBy: 'BS. Trần Văn Bình, Sở Y tế Hải Phòng (QĐ 123/QĐ-SYT)', note: 'Theo văn bản của Sở' };
  for (const k of PARAMETER_KEYS) {
    const v = String(entries[k].value);
    form[`v_${k}`] = locale === 'vi' ? v.replace('.', ',') : v;
    form[`s_${k}`] = entries[k].source;
    if (entries[k].confirmed) form[`c_${k}`] = '1';
  }
  for (const [k, v] of Object.entries(over)) {
    if (v === '') delete form[k];
    else form[k] = v;
  }
  return form;
}

const count = (html: string, s: string) => html.split(s).length - 1;
/** A message as it appears in the page's HTML. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

describeEachDatabase('rule sets: the admin’s settings', (get) => {
  async function admin(locale: 'vi' | 'en' = 'vi') {
    const { db } = get();
    const t = makeTestApp(db, {}, new FixedClock(NOW));
    const clinic = await makeClinic(db, { name: 'Cơ sở Lê Chân' });
    const a = await makeUser(db, 'admin', [clinic.id]);
    if (locale === 'en') await db.update(users).set({ locale: 'en' }).where(eq(users.id, a.id));
    const { token, csrfToken } = await sessionFor(db, a.id, NOW);
    const c = new TestClient(t.app);
    c.setCookie('mp_session', token);
    c.csrf = csrfToken;
    return { ...t, c, clinic, db, admin: a, actor: { userId: a.id, address: null } };
  }

  /** A rule set of the test's own, made through the form, with a clinic following it. */
  async function ownSet(c: TestClient, clinicId: string, name: string) {
    const { db } = get();
    const defaultId = (await listRuleSets(db)).defaultSetId!;
    await c.get('/admin/rules');
    const created = await c.post('/admin/rules', { intent: 'new_set', set: defaultId, name, from: defaultId });
    expect(created.res.status).toBe(303);
    const setId = new URL(created.res.headers.get('location')!, 'http://x').searchParams.get('set')!;
    const assigned = await c.post('/admin/rules', { intent: 'assign', set: setId, clinicId, ruleSetId: setId });
    expect(assigned.res.status).toBe(303);
    return setId;
  }

  it('the default set exists with every parameter, and the page flags the unconfirmed ones', async () => {
    const { c, db } = await admin();
    const { sets, defaultSetId } = await listRuleSets(db);
    expect(sets[0]!.name).toBe(DEFAULT_RULE_SET_NAME);
    const inForce = await ruleSetOn(db, defaultSetId!, TODAY);
    expect(Object.keys(inForce.entries).sort()).toEqual([...PARAMETER_KEYS].sort());
    for (const k of PARAMETER_KEYS) expect(inForce.entries[k]).toEqual({ value: PARAMETERS[k].default, source: PARAMETERS[k].source, confirmed: PARAMETERS[k].confirmed });
    const open = unconfirmed(inForce.entries);
    expect(open.length).toBeGreaterThan(0);

    const { res, html } = await c.get('/admin/rules');
    expect(res.status).toBe(200);
    expect(html).toContain(vi.rules_default_set_name);
    expect(html).toContain('href="/admin/rules"');
    expect(html).toContain(vi.rules_unconfirmed_summary({ n: open.length, total: PARAMETER_KEYS.length }));
    expect(count(html, 'badge-unconfirmed')).toBe(open.length);
    for (const k of PARAMETER_KEYS) expect(html).toContain(vi[`param_${k}`]);
    // Grouped by rule, in the order of clinical-rules.md.
    const groups = ['R1', 'R2', 'R4', 'R5', 'R6', 'R7', 'R11', 'R14', 'R16', 'R17', 'R18'].map((r) => html.indexOf(`id="group-${r}"`));
    expect(groups.every((i) => i > 0)).toBe(true);
    expect([...groups].sort((a, b) => a - b)).toEqual(groups);
    // Each row: value with its unit (Vietnamese decimal comma), its source, its confirmation.
    const row = (k: ParameterKey) => html.slice(html.indexOf(`data-param="${k}"`), html.indexOf('</tr>', html.indexOf(`data-param="${k}"`)));
    expect(row('concentration_mg_per_ml')).toContain('10 mg/ml');
    expect(row('concentration_mg_per_ml')).toContain(vi.rules_confirmed);
    expect(row('concentration_mg_per_ml')).not.toContain(vi.rules_unconfirmed);
    expect(row('measuring_resolution_ml')).toContain('0,1 ml');
    expect(row('dose_max_mg')).toContain(vi.rules_unconfirmed);
    expect(row('dose_max_mg')).toContain('Plausibility bound');
    // The new-version form is filled with the values in force; every input has a label.
    expect(html).toContain('id="v_measuring_resolution_ml" name="v_measuring_resolution_ml" value="0,1"');
    // Effective from tomorrow by default, in Hà Nội's calendar.
    expect(html).toContain('id="effectiveFrom" name="effectiveFrom" value="12/03/2026"');
    for (const id of [...html.matchAll(/<(?:input|select|textarea) id="([^"]+)"/g)].map((m) => m[1]!)) expect(html, id).toContain(`for="${id}"`);
  });

  it('the page in English', async () => {
    const { c } = await admin('en');
    const { html } = await c.get('/admin/rules');
    expect(html).toContain(en.rules_default_set_name);
    expect(html).toContain(en.rules_unconfirmed);
    expect(html).toContain('0.1 ml');
    expect(html).toContain(en.param_missed_reinduction_days);
  });

  it('a version effective tomorrow changes nothing today, applies tomorrow, leaves the past as it was, and is audited', async () => {
    const { c, db, clinic } = await admin();
    const other = await makeClinic(db);
    const setId = await ownSet(c, clinic.id, 'Hải Phòng');
    const before = await ruleSetOn(db, setId, TODAY);
    await c.get(`/admin/rules?set=${setId}`);
    // Decimal comma and decimal point are both accepted.
    // Dates are typed dd/mm/yyyy, as everywhere in the UI.
    const r = await c.post('/admin/rules', versionForm(setId, before.entries, { v_high_dose_mg: '100', c_high_dose_mg: '1', v_measuring_resolution_ml: '0,5', v_restart_max_mg: '30.0', effectiveFrom: '12/03/2026' }));
    expect(r.res.status).toBe(303);
    expect(r.res.headers.get('location')).toBe(`/admin/rules?set=${setId}&on=${TOMORROW}`);

    const today = await rulesForClinic(db, clinic.id, TODAY);
    expect(today.params).toMatchObject({ high_dose_mg: 120, measuring_resolution_ml: 0.1, restart_max_mg: 40 });
    const tomorrow = await rulesForClinic(db, clinic.id, TOMORROW);
    expect(tomorrow.params).toMatchObject({ high_dose_mg: 100, measuring_resolution_ml: 0.5, restart_max_mg: 30 });
    expect(tomorrow.entries.high_dose_mg.confirmed).toBe(true);
    expect(tomorrow.versionId).not.toBe(today.versionId);
    // A decision of last year is still explained with the numbers of last year.
    expect((await rulesForClinic(db, clinic.id, '2025-06-01')).params.high_dose_mg).toBe(120);
    expect((await rulesForClinic(db, clinic.id, '2025-06-01')).versionId).toBe(today.versionId);
    // Another clinic, on the default set, is not touched.
    expect((await rulesForClinic(db, other.id, TOMORROW)).params.high_dose_mg).toBe(120);

    const [version] = await db.select().from(ruleSetVersions).where(eq(ruleSetVersions.id, tomorrow.versionId));
    expect(version).toMatchObject({ effectiveFrom: TOMORROW, approvedBy: 'BS. Trần Văn Bình, Sở Y tế Hải Phòng (QĐ 123/QĐ-SYT)', note: 'Theo văn bản của Sở' });
    const entries = await db.select().from(auditLog).where(and(eq(auditLog.entityId, setId), eq(auditLog.action, 'rule_set_change')));
    const change = entries.find((e) => e.details.versionId === tomorrow.versionId);
    expect(change).toBeDefined();
    const changed = change!.details.changed as { key: string; from: number; to: number }[];
    expect(changed.map((x) => x.key).sort()).toEqual(['high_dose_mg', 'measuring_resolution_ml', 'restart_max_mg']);
    expect(changed.find((x) => x.key === 'high_dose_mg')).toMatchObject({ from: 120, to: 100 });

    // The page: today still shows 120; tomorrow shows the new version and who approved it.
    const now = await c.get(`/admin/rules?set=${setId}`);
    expect(now.html).toContain('120 mg');
    expect(now.html).toContain(vi.rules_version_scheduled);
    expect(now.html).toContain('BS. Trần Văn Bình');
    const then = await c.get(`/admin/rules?set=${setId}&on=${TOMORROW}`);
    expect(then.html).toContain(vi.rules_in_force({ on: '12/03/2026', from: '12/03/2026' }));
    expect(then.html.slice(then.html.indexOf('data-param="high_dose_mg"'))).toMatch(/^[^]*?100 mg[^]*?Đã xác nhận/);
  });

  it('refuses bad input with 422, a message on the field and every value kept; nothing is written', async () => {
    const { c, db, clinic } = await admin();
    const setId = await ownSet(c, clinic.id, 'Kiểm tra lỗi');
    const { entries } = await ruleSetOn(db, setId, TODAY);
    const versions = async () => (await db.select().from(ruleSetVersions).where(eq(ruleSetVersions.ruleSetId, setId))).length;
    const n = await versions();
    await c.get(`/admin/rules?set=${setId}`);
    const post = (over: Record<string, string>) => c.post('/admin/rules', versionForm(setId, entries, over));
    const fieldError = (html: string, id: string) => {
      const at = html.indexOf(`id="${id}-error"`);
      return at < 0 ? '' : html.slice(at, html.indexOf('</small>', at));
    };

    const range = await post({ v_concentration_mg_per_ml: '1000', v_restart_max_mg: '35,5', note: 'giữ <ghi chú> này' });
    expect(range.res.status).toBe(422);
    expect(range.html).toContain(vi.form_has_errors);
    expect(fieldError(range.html, 'v_concentration_mg_per_ml')).toContain(vi.err_out_of_range);
    expect(range.html).toContain('id="v_concentration_mg_per_ml" name="v_concentration_mg_per_ml" value="1000"');
    expect(range.html).toContain('value="35,5"');
    expect(range.html).toContain('giữ &lt;ghi chú&gt; này');
    expect(range.html).toContain('value="BS. Trần Văn Bình, Sở Y tế Hải Phòng (QĐ 123/QĐ-SYT)"');

    const days = await post({ v_dropout_days: '30,5' });
    expect(days.res.status).toBe(422);
    expect(fieldError(days.html, 'v_dropout_days')).toContain(vi.err_out_of_range);

    const text = await post({ v_high_dose_mg: 'một trăm' });
    expect(text.res.status).toBe(422);
    expect(fieldError(text.html, 'v_high_dose_mg')).toContain(vi.err_number_format);
    expect(text.html).toContain('value="một trăm"');

    const inconsistent = await post({ v_missed_half_dose_days: '4', v_missed_doctor_days: '4' });
    expect(inconsistent.res.status).toBe(422);
    expect(fieldError(inconsistent.html, 'v_missed_half_dose_days')).toContain(vi.err_rules_inconsistent);
    expect(inconsistent.html).toContain(esc(vi.rules_consistency_missed_half_dose_days));
    expect(inconsistent.html).toContain('id="v_missed_half_dose_days" name="v_missed_half_dose_days" value="4"');
    expect(inconsistent.html).toContain('id="v_missed_doctor_days" name="v_missed_doctor_days" value="4"');

    // Yesterday in Hà Nội (though still "today" in UTC).
    const past = await post({ effectiveFrom: '10/03/2026', c_dose_max_mg: '1' });
    expect(past.res.status).toBe(422);
    expect(fieldError(past.html, 'effectiveFrom')).toContain(vi.err_date_past);
    expect(past.html).toContain('value="10/03/2026"');
    const iso = await post({ effectiveFrom: YESTERDAY });
    expect(fieldError(iso.html, 'effectiveFrom')).toContain(vi.err_date_past);
    const notADay = await post({ effectiveFrom: '31/02/2026' });
    expect(fieldError(notADay.html, 'effectiveFrom')).toContain(vi.err_date);
    expect(notADay.html).toContain('value="31/02/2026"');
    expect(past.html).toMatch(/id="c_dose_max_mg" type="checkbox" name="c_dose_max_mg" value="1" checked/);

    const noApprover = await post({ approvedBy: '   ', v_high_dose_mg: '110' });
    expect(noApprover.res.status).toBe(422);
    expect(fieldError(noApprover.html, 'approvedBy')).toContain(vi.err_required);
    expect(noApprover.html).toContain('id="v_high_dose_mg" name="v_high_dose_mg" value="110"');

    // Every message in one round, when a value also fails to parse.
    const both = await post({ v_high_dose_mg: 'x', approvedBy: '', v_concentration_mg_per_ml: '0' });
    expect(both.res.status).toBe(422);
    expect(fieldError(both.html, 'v_high_dose_mg')).toContain(vi.err_number_format);
    expect(fieldError(both.html, 'approvedBy')).toContain(vi.err_required);
    expect(fieldError(both.html, 'v_concentration_mg_per_ml')).toContain(vi.err_out_of_range);

    expect(await versions()).toBe(n);
    expect((await rulesForClinic(db, clinic.id, TOMORROW)).params).toMatchObject({ concentration_mg_per_ml: 10, high_dose_mg: 120 });
  });

  it('rule_set_versions is append-only: UPDATE and DELETE are refused by the database', async () => {
    const { db } = await admin();
    const { defaultSetId } = await listRuleSets(db);
    const { versionId } = await ruleSetOn(db, defaultSetId!, TODAY);
    await expectRejection(db.update(ruleSetVersions).set({ note: 'rewritten' }).where(eq(ruleSetVersions.id, versionId)), /append-only table rule_set_versions: UPDATE/);
    await expectRejection(db.delete(ruleSetVersions).where(eq(ruleSetVersions.id, versionId)), /append-only table rule_set_versions: DELETE/);
    const [row] = await db.select().from(ruleSetVersions).where(eq(ruleSetVersions.id, versionId));
    expect(row!.note).toBe('Shipped defaults');
  });

  it('assigning a clinic to another set changes its rules only, audited with the clinic; back to the default with an empty choice', async () => {
    const { c, db, clinic, clock, actor } = await admin();
    const neighbour = await makeClinic(db);
    const { defaultSetId } = await listRuleSets(db);
    const setId = await createRuleSet({ db, clock }, actor, { fromRuleSetId: defaultSetId!, name: 'Tỉnh Quảng Ninh' }, TODAY);
    // The copy keeps the source's past, so moving a clinic does not rewrite its history.
    expect((await ruleSetOn(db, setId, '2020-01-01')).params.high_dose_mg).toBe(120);
    const copied = await ruleSetOn(db, setId, TODAY);
    await addRuleSetVersion({ db, clock }, actor, { ruleSetId: setId, effectiveFrom: TODAY, approvedBy: 'Sở Y tế Quảng Ninh', note: '', entries: { ...copied.entries, high_dose_mg: { value: 150, source: 'Sở Y tế Quảng Ninh', confirmed: true } } }, TODAY);

    await c.get('/admin/rules');
    const r = await c.post('/admin/rules', { intent: 'assign', set: defaultSetId!, clinicId: clinic.id, ruleSetId: setId });
    expect(r.res.status).toBe(303);
    expect((await rulesForClinic(db, clinic.id, TODAY)).params.high_dose_mg).toBe(150);
    expect((await rulesForClinic(db, neighbour.id, TODAY)).params.high_dose_mg).toBe(120);
    const [entry] = await db.select().from(auditLog).where(and(eq(auditLog.clinicId, clinic.id), eq(auditLog.action, 'rule_set_change')));
    expect(entry).toMatchObject({ entityType: 'clinic', entityId: clinic.id, details: { from: null, to: setId } });
    const page = await c.get('/admin/rules');
    expect(page.html).toContain(esc(vi.rules_assigned({ clinic: 'Cơ sở Lê Chân' })));
    expect(page.html).toMatch(new RegExp(`<option value="${setId}" selected="">Tỉnh Quảng Ninh</option>`));

    const back = await c.post('/admin/rules', { intent: 'assign', set: defaultSetId!, clinicId: clinic.id, ruleSetId: '' });
    expect(back.res.status).toBe(303);
    const [row] = await db.select({ ruleSetId: clinics.ruleSetId }).from(clinics).where(eq(clinics.id, clinic.id));
    expect(row!.ruleSetId).toBeNull();
    expect((await rulesForClinic(db, clinic.id, TODAY)).params.high_dose_mg).toBe(120);

    const bad = await c.post('/admin/rules', { intent: 'assign', set: defaultSetId!, clinicId: clinic.id, ruleSetId: 'not-a-set' });
    expect(bad.res.status).toBe(422);
    expect(bad.html).toContain(vi.err_choose);
  });

  it('a new set needs a name of its own; its creation is audited', async () => {
    const { c, db } = await admin();
    const { defaultSetId } = await listRuleSets(db);
    await c.get('/admin/rules');
    const empty = await c.post('/admin/rules', { intent: 'new_set', set: defaultSetId!, name: '  ', from: defaultSetId! });
    expect(empty.res.status).toBe(422);
    expect(empty.html).toContain(vi.err_required);
    const ok = await c.post('/admin/rules', { intent: 'new_set', set: defaultSetId!, name: 'Tỉnh Thái Bình', from: defaultSetId! });
    expect(ok.res.status).toBe(303);
    const setId = new URL(ok.res.headers.get('location')!, 'http://x').searchParams.get('set')!;
    const [entry] = await db.select().from(auditLog).where(and(eq(auditLog.entityId, setId), eq(auditLog.action, 'rule_set_change')));
    expect(entry!.details).toMatchObject({ created: true, fromRuleSetId: defaultSetId });
    const taken = await c.post('/admin/rules', { intent: 'new_set', set: defaultSetId!, name: 'tỉnh thái bình', from: defaultSetId! });
    expect(taken.res.status).toBe(422);
    expect(taken.html).toContain(vi.err_rule_set_name_taken);
    expect(taken.html).toContain('value="tỉnh thái bình"');
    const page = await c.get(`/admin/rules?set=${setId}`);
    expect(page.html).toContain('Tỉnh Thái Bình');
  });

  it('only the admin reaches the settings; others get 403 and no link', async () => {
    const { db, app, clinic } = await admin();
    for (const role of ['doctor', 'nurse', 'counsellor', 'manager'] as const) {
      const user = await makeUser(db, role, [clinic.id]);
      const { token, csrfToken } = await sessionFor(db, user.id, NOW);
      const c = new TestClient(app);
      c.setCookie('mp_session', token);
      c.csrf = csrfToken;
      expect((await c.get('/admin/rules')).res.status, role).toBe(403);
      expect((await c.post('/admin/rules', { intent: 'assign', clinicId: clinic.id, ruleSetId: '' })).res.status, role).toBe(403);
      expect((await c.get('/home')).html, role).not.toContain('/admin/rules');
    }
  });

  it('reads a decimal with a comma or a point, and nothing else', () => {
    expect(parseDecimal('0,1')).toBe(0.1);
    expect(parseDecimal(' 0.1 ')).toBe(0.1);
    expect(parseDecimal('120')).toBe(120);
    expect(parseDecimal('1.000,5')).toBeNull();
    expect(parseDecimal('1e3')).toBeNull();
    expect(parseDecimal('')).toBeNull();
  });
});
