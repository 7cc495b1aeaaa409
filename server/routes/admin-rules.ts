// The admin's rule set settings: see the parameters in force on a day, add a
// version effective from a date, create a set, choose each clinic's set.
import { Hono } from 'hono';
import { z } from 'zod';
import { DEFAULT_RULE_SET_NAME, addRuleSetVersion, assignRuleSet, createRuleSet, listRuleSets, ruleSetOn, versionErrors } from '../services/rule-sets.ts';
import { listClinics } from '../services/clinics.ts';
import { DEFAULT_ENTRIES, PARAMETERS, PARAMETER_KEYS, type ParameterEntries, type ParameterKey } from '../dosing/parameters.ts';
import { serviceDay } from '../clock.ts';
import { addDays, isDay } from '../dosing/days.ts';
import { Invalid, NotFound, type FieldErrors } from '../errors.ts';
import { formatDay } from '../../views/format.ts';
import type { Messages } from '../../views/i18n/index.ts';
import { RulesPage, plainNumber, type RuleSetOption, type RulesPageProps, type VersionFormValues, type VersionRow } from '../../views/pages/rules.tsx';
import { actorOf, flash, formBody, render, services, str, viewContext, type AppEnv, type Ctx } from './support.ts';

const Uuid = z.uuid();

/** A day as typed: dd/mm/yyyy (what people write) or YYYY-MM-DD (links); null when it is no real day. */
export function parseDayInput(input: string): string | null {
  const s = input.trim();
  const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(s);
  const day = m ? `${m[3]}-${m[2]!.padStart(2, '0')}-${m[1]!.padStart(2, '0')}` : s;
  return isDay(day) ? day : null;
}

/** A decimal as typed: "0,1" (Vietnamese) and "0.1" both mean one tenth; anything else is not a number. */
export function parseDecimal(input: string): number | null {
  const s = input.trim().replace(/\s+/g, '');
  if (!/^-?\d+(?:[.,]\d+)?$/.test(s)) return null;
  return Number(s.replace(',', '.'));
}

/** Rule sets are programme-wide: "today" is the programme's day. */
const today = (c: Ctx) => serviceDay(c.var.deps.clock.now(), c.var.deps.config.DEFAULT_TIME_ZONE);

function prefill(entries: ParameterEntries, effectiveFrom: string, locale: 'vi' | 'en'): VersionFormValues {
  const pick = <T,>(f: (k: ParameterKey) => T) => Object.fromEntries(PARAMETER_KEYS.map((k) => [k, f(k)])) as Record<ParameterKey, T>;
  return {
    values: pick((k) => plainNumber(entries[k].value, locale)),
    confirmed: pick((k) => entries[k].confirmed),
    sources: pick((k) => entries[k].source),
    effectiveFrom: formatDay(effectiveFrom),
    approvedBy: '',
    note: '',
  };
}

function formFromBody(body: Record<string, string | string[]>): VersionFormValues {
  const pick = <T,>(f: (k: ParameterKey) => T) => Object.fromEntries(PARAMETER_KEYS.map((k) => [k, f(k)])) as Record<ParameterKey, T>;
  return {
    values: pick((k) => str(body, `v_${k}`)),
    confirmed: pick((k) => str(body, `c_${k}`) !== ''),
    sources: pick((k) => str(body, `s_${k}`)),
    effectiveFrom: str(body, 'effectiveFrom'),
    approvedBy: str(body, 'approvedBy'),
    note: str(body, 'note'),
  };
}

interface PageState {
  setId?: string | undefined;
  on?: string | undefined;
  form?: VersionFormValues;
  newSet?: { name: string; from: string };
  errors?: Partial<RulesPageProps['errors']>;
}

async function renderPage(c: Ctx, state: PageState, status: 200 | 422) {
  const { db, config } = c.var.deps;
  const t: Messages = viewContext(c).t;
  const day = today(c);
  const { sets, versions, defaultSetId } = await listRuleSets(db);
  const options: RuleSetOption[] = sets.map((s) => ({
    id: s.id,
    // The shipped name is data in English; the reader gets it in their language.
    name: s.id === defaultSetId && s.name === DEFAULT_RULE_SET_NAME ? t.rules_default_set_name : s.name,
    isDefault: s.id === defaultSetId,
  }));
  const set = options.find((s) => s.id === (state.setId ?? defaultSetId));
  if (!set) throw new NotFound('rule set');
  const on = (state.on && parseDayInput(state.on)) || day;

  const inForceOn = await ruleSetOn(db, set.id, on).catch(ignoreNotFound);
  const inForceToday = on === day ? inForceOn : await ruleSetOn(db, set.id, day).catch(ignoreNotFound);
  const own = versions.filter((v) => v.ruleSetId === set.id);
  const rows: VersionRow[] = own.map((v) => ({
    id: v.id,
    effectiveFrom: v.effectiveFrom,
    approvedBy: v.approvedBy,
    note: v.note,
    createdAt: v.createdAt,
    state: v.id === inForceToday?.versionId ? 'in_force' : v.effectiveFrom > day ? 'scheduled' : 'replaced',
  }));
  const clinics = (await listClinics(db, null)).map((cl) => ({ id: cl.id, code: cl.code, name: cl.name, active: cl.active, ruleSetId: cl.ruleSetId }));
  // The form starts from the values shown (or today's, for a date before the set's first version).
  const form = state.form ?? prefill((inForceOn ?? inForceToday)?.entries ?? DEFAULT_ENTRIES, addDays(day, 1), c.var.locale);

  const props: RulesPageProps = {
    ctx: viewContext(c),
    timeZone: config.DEFAULT_TIME_ZONE,
    today: day,
    on,
    sets: options,
    set,
    inForce: inForceOn && { versionId: inForceOn.versionId, effectiveFrom: inForceOn.effectiveFrom, entries: inForceOn.entries },
    versions: rows,
    clinics,
    form,
    newSet: state.newSet ?? { name: '', from: set.id },
    errors: { version: {}, newSet: {}, assign: {}, ...state.errors },
  };
  return render(c, RulesPage(props), status);
}

function ignoreNotFound(e: unknown): null {
  if (e instanceof NotFound) return null;
  throw e;
}

/** The set a form names; an unknown id is a 404, as in the page. */
function setIdOf(body: Record<string, string | string[]>): string | undefined {
  const raw = str(body, 'set');
  if (raw === '') return undefined;
  const id = Uuid.safeParse(raw);
  if (!id.success) throw new NotFound('rule set');
  return id.data;
}

async function postVersion(c: Ctx, body: Record<string, string | string[]>) {
  const setId = setIdOf(body);
  const form = formFromBody(body);
  const day = today(c);
  const { db } = c.var.deps;
  const { defaultSetId } = await listRuleSets(db);
  const ruleSetId = setId ?? defaultSetId;
  if (!ruleSetId) throw new NotFound('rule set');
  const current = await ruleSetOn(db, ruleSetId, day).catch(ignoreNotFound);

  const errors: FieldErrors = {};
  const entries = {} as ParameterEntries;
  for (const k of PARAMETER_KEYS) {
    const value = parseDecimal(form.values[k]);
    if (value === null) errors[`v_${k}`] = form.values[k].trim() === '' ? 'err_required' : 'err_number_format';
    const source = form.sources[k].trim();
    if (source.length > 500) errors[`s_${k}`] = 'err_too_long';
    entries[k] = { value: value ?? NaN, source: source || current?.entries[k].source || PARAMETERS[k].source, confirmed: form.confirmed[k] };
  }
  const effectiveFrom = parseDayInput(form.effectiveFrom);
  if (!effectiveFrom) errors.effectiveFrom = form.effectiveFrom.trim() === '' ? 'err_required' : 'err_date';
  if (form.approvedBy.trim().length > 300) errors.approvedBy = 'err_too_long';
  if (form.note.trim().length > 1000) errors.note = 'err_too_long';

  const rerender = (fields: FieldErrors) => renderPage(c, { setId: ruleSetId, form, errors: { version: fields } }, 422);
  if (Object.keys(errors).length) {
    // One round shows every message: the service's checks run on what did parse
    // (a value that did not stands in as its default, so it flags nothing itself).
    const usable = Object.fromEntries(PARAMETER_KEYS.map((k) => [k, Number.isFinite(entries[k].value) ? entries[k] : { ...entries[k], value: PARAMETERS[k].default }])) as ParameterEntries;
    const checks = versionErrors({ effectiveFrom: effectiveFrom ?? day, approvedBy: form.approvedBy, entries: usable }, day);
    return rerender({ ...fieldNames(checks), ...errors });
  }
  try {
    await addRuleSetVersion(services(c), actorOf(c), { ruleSetId, effectiveFrom: effectiveFrom!, approvedBy: form.approvedBy, note: form.note, entries }, day);
  } catch (e) {
    if (e instanceof Invalid) return rerender(fieldNames(e.fields));
    throw e;
  }
  flash(c, 'rules_version_saved', { date: formatDay(effectiveFrom!) });
  return c.redirect(`/admin/rules?set=${ruleSetId}&on=${effectiveFrom}`, 303);
}

/** The service names a parameter by its key; the form's value field is v_<key>. */
function fieldNames(fields: FieldErrors): FieldErrors {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k in PARAMETERS ? `v_${k}` : k, v]));
}

async function postNewSet(c: Ctx, body: Record<string, string | string[]>) {
  const setId = setIdOf(body);
  const newSet = { name: str(body, 'name'), from: str(body, 'from') };
  const fromId = Uuid.safeParse(newSet.from);
  try {
    const id = await createRuleSet(services(c), actorOf(c), { fromRuleSetId: fromId.success ? fromId.data : '', name: newSet.name }, today(c));
    flash(c, 'rules_set_created', { name: newSet.name.trim() });
    return c.redirect(`/admin/rules?set=${id}`, 303);
  } catch (e) {
    if (e instanceof Invalid) return renderPage(c, { setId, newSet, errors: { newSet: e.fields } }, 422);
    throw e;
  }
}

async function postAssign(c: Ctx, body: Record<string, string | string[]>) {
  const setId = setIdOf(body);
  const clinic = Uuid.safeParse(str(body, 'clinicId'));
  if (!clinic.success) throw new NotFound('clinic');
  const raw = str(body, 'ruleSetId');
  const target = raw === '' ? null : Uuid.safeParse(raw);
  const field = `rs_${clinic.data}`;
  if (target && !target.success) return renderPage(c, { setId, errors: { assign: { [field]: 'err_choose' } } }, 422);
  const [row] = (await listClinics(c.var.deps.db, null)).filter((cl) => cl.id === clinic.data);
  if (!row) throw new NotFound('clinic');
  try {
    await assignRuleSet(services(c), actorOf(c), clinic.data, target ? target.data! : null);
  } catch (e) {
    if (e instanceof Invalid) return renderPage(c, { setId, errors: { assign: { [field]: 'err_choose' } } }, 422);
    throw e;
  }
  flash(c, 'rules_assigned', { clinic: row.name });
  return c.redirect(`/admin/rules${setId ? `?set=${setId}` : ''}#clinics`, 303);
}

export const adminRuleRoutes = new Hono<AppEnv>()
  .get('/admin/rules', async (c) => {
    const raw = c.req.query('set');
    let setId: string | undefined;
    if (raw) {
      const id = Uuid.safeParse(raw);
      if (!id.success) throw new NotFound('rule set');
      setId = id.data;
    }
    return renderPage(c, { setId, on: c.req.query('on') }, 200);
  })
  .post('/admin/rules', async (c) => {
    const body = await formBody(c);
    switch (str(body, 'intent')) {
      case 'version':
        return postVersion(c, body);
      case 'new_set':
        return postNewSet(c, body);
      case 'assign':
        return postAssign(c, body);
      default:
        throw new Invalid({ intent: 'err_invalid' });
    }
  });
