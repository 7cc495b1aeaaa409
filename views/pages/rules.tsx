// The admin's rule set settings: the parameters in force (grouped by rule,
// with source and confirmation), the version history, a new version, which
// set each clinic follows, and a new set.
import { PARAMETERS, PARAMETER_KEYS, type ParameterDef, type ParameterEntries, type ParameterKey } from '../../server/dosing/parameters.ts';
import type { Locale } from '../../db/schema.ts';
import { Csrf, Field, FormErrors, describedBy, type Errors } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { formatDateTime, formatDay } from '../format.ts';
import type { Messages, TextKey } from '../i18n/index.ts';
import { Layout } from '../layout.tsx';

type RuleId = (typeof PARAMETERS)[ParameterKey]['rule'];

export interface RuleSetOption {
  id: string;
  /** Already in the reader's language for the shipped default set. */
  name: string;
  isDefault: boolean;
}

export interface VersionRow {
  id: string;
  effectiveFrom: string;
  approvedBy: string;
  note: string;
  createdAt: Date;
  /** Relative to today: the one in force, one not yet in force, or one replaced. */
  state: 'in_force' | 'scheduled' | 'replaced';
}

export interface ClinicRuleSet {
  id: string;
  code: string;
  name: string;
  active: boolean;
  ruleSetId: string | null;
}

/** The new-version form as typed: strings, kept as they were on a 422. */
export interface VersionFormValues {
  values: Record<ParameterKey, string>;
  confirmed: Record<ParameterKey, boolean>;
  sources: Record<ParameterKey, string>;
  effectiveFrom: string;
  approvedBy: string;
  note: string;
}

export interface RulesPageProps {
  ctx: ViewContext;
  timeZone: string;
  today: string;
  on: string;
  sets: RuleSetOption[];
  set: RuleSetOption;
  /** The version in force on `on`, or null when the set has none yet then. */
  inForce: { versionId: string; effectiveFrom: string; entries: ParameterEntries } | null;
  versions: VersionRow[];
  clinics: ClinicRuleSet[];
  form: VersionFormValues;
  newSet: { name: string; from: string };
  errors: { version: Errors; newSet: Errors; assign: Errors };
}

/** Rule ids in the order of clinical-rules.md, each with its parameters. */
const GROUPS: { rule: RuleId; keys: ParameterKey[] }[] = (() => {
  const byRule = new Map<RuleId, ParameterKey[]>();
  for (const k of PARAMETER_KEYS) {
    const rule = PARAMETERS[k].rule;
    byRule.set(rule, [...(byRule.get(rule) ?? []), k]);
  }
  return [...byRule].map(([rule, keys]) => ({ rule, keys })).sort((a, b) => Number(a.rule.slice(1)) - Number(b.rule.slice(1)));
})();

/** Which cross-parameter check a key stands for (see inconsistencies()). */
const CONSISTENCY: Partial<Record<ParameterKey, TextKey>> = {
  first_dose_warn_mg: 'rules_consistency_first_dose_warn_mg',
  titration_order_min_days: 'rules_consistency_titration_order_min_days',
  increase_step_max_mg: 'rules_consistency_increase_step_max_mg',
  missed_half_dose_days: 'rules_consistency_missed_half_dose_days',
  alert_doctor_days: 'rules_consistency_alert_doctor_days',
  high_dose_mg: 'rules_consistency_high_dose_mg',
};

/** A number as typed in this locale: no grouping (1000, never 1.000), the locale's decimal mark. */
export function plainNumber(n: number, locale: Locale): string {
  const s = String(n);
  return locale === 'vi' ? s.replace('.', ',') : s;
}

function unitOf(def: ParameterDef, t: Messages): string | null {
  switch (def.kind) {
    case 'mg':
      return t.rules_unit_mg;
    case 'ml':
      return t.rules_unit_ml;
    case 'mg_per_ml':
      return t.rules_unit_mg_per_ml;
    case 'days':
      return t.rules_unit_days;
    case 'percent':
      return t.rules_unit_percent;
    case 'count':
    case 'flag':
      return null;
    default:
      return def.kind satisfies never;
  }
}

function displayValue(key: ParameterKey, value: number, ctx: ViewContext): string {
  const def: ParameterDef = PARAMETERS[key];
  const { t, locale } = ctx;
  if (def.kind === 'flag') return value ? t.rules_flag_on : t.rules_flag_off;
  if (def.kind === 'days') return t.rules_n_days({ n: plainNumber(value, locale) });
  if (def.kind === 'percent') return `${plainNumber(value, locale)} %`;
  if (def.kind === 'count') return plainNumber(value, locale);
  return `${plainNumber(value, locale)} ${unitOf(def, t)}`;
}

const setName = (s: RuleSetOption, t: Messages) => (s.isDefault ? `${s.name} ${t.rules_default_mark}` : s.name);

export function RulesPage(props: RulesPageProps) {
  const { ctx, set, inForce } = props;
  const { t } = ctx;
  const unconfirmed = inForce ? PARAMETER_KEYS.filter((k) => !inForce.entries[k].confirmed).length : 0;
  return (
    <Layout ctx={ctx} title={t.rules_title}>
      <h1>{t.rules_title}</h1>
      <p class="muted">{t.rules_intro}</p>

      <form method="get" action="/admin/rules" class="card stack">
        <Field id="view-set" label={t.rules_set} t={t}>
          <select id="view-set" name="set">
            {props.sets.map((s) => (
              <option value={s.id} selected={s.id === set.id}>
                {setName(s, t)}
              </option>
            ))}
          </select>
        </Field>
        <Field id="view-on" label={t.rules_on} t={t} hint={t.rules_date_hint}>
          <input id="view-on" name="on" value={formatDay(props.on)} maxlength={10} inputmode="numeric" placeholder="dd/mm/yyyy" autocomplete="off" {...describedBy('view-on', undefined, true)} />
        </Field>
        <div class="actions">
          <button type="submit">{t.rules_show}</button>
        </div>
      </form>

      <section class="card" aria-labelledby="in-force-title">
        <h2 id="in-force-title">{setName(set, t)}</h2>
        {inForce ? (
          <>
            <p>{t.rules_in_force({ on: formatDay(props.on), from: formatDay(inForce.effectiveFrom) })}</p>
            <p class={unconfirmed ? 'error' : 'ok'} id="unconfirmed-summary">
              {unconfirmed ? t.rules_unconfirmed_summary({ n: unconfirmed, total: PARAMETER_KEYS.length }) : t.rules_all_confirmed}
            </p>
            <ParameterTable ctx={ctx} entries={inForce.entries} />
          </>
        ) : (
          <p>{t.rules_none_on_date}</p>
        )}
      </section>

      <section class="card" aria-labelledby="history-title">
        <h2 id="history-title">{t.rules_history}</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.rules_history_effective}</th>
                <th scope="col">{t.rules_history_approved_by}</th>
                <th scope="col">{t.rules_history_note}</th>
                <th scope="col">{t.rules_history_created}</th>
                <th scope="col">{t.rules_history_state}</th>
              </tr>
            </thead>
            <tbody hx-disable>
              {props.versions.map((v) => (
                <tr aria-current={inForce?.versionId === v.id ? 'true' : undefined}>
                  <td>
                    <a href={`/admin/rules?set=${set.id}&on=${v.effectiveFrom}`} title={t.rules_version_view}>
                      {formatDay(v.effectiveFrom)}
                    </a>
                  </td>
                  <td>{v.approvedBy || t.rules_not_recorded}</td>
                  <td>{v.note || t.rules_not_recorded}</td>
                  <td>{formatDateTime(v.createdAt, props.timeZone)}</td>
                  <td>
                    {t[`rules_version_${v.state}`]}
                    {inForce?.versionId === v.id && <strong> · {t.rules_version_viewing}</strong>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <VersionForm {...props} />
      <ClinicAssignments {...props} />
      <NewSetForm {...props} />
    </Layout>
  );
}

function ParameterTable({ ctx, entries }: { ctx: ViewContext; entries: ParameterEntries }) {
  const { t } = ctx;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">{t.rules_col_parameter}</th>
            <th scope="col">{t.rules_col_value}</th>
            <th scope="col">{t.rules_col_source}</th>
            <th scope="col">{t.rules_col_status}</th>
          </tr>
        </thead>
        {GROUPS.map((g) => (
          <tbody hx-disable>
            <tr>
              <th scope="colgroup" colspan={4} id={`group-${g.rule}`}>
                {t[`rules_group_${g.rule}`]}
              </th>
            </tr>
            {g.keys.map((k) => {
              const e = entries[k];
              return (
                <tr data-param={k}>
                  <th scope="row">{t[`param_${k}`]}</th>
                  <td>{displayValue(k, e.value, ctx)}</td>
                  <td>{e.source}</td>
                  <td>{e.confirmed ? <span class="ok">{t.rules_confirmed}</span> : <strong class="error badge-unconfirmed">{t.rules_unconfirmed}</strong>}</td>
                </tr>
              );
            })}
          </tbody>
        ))}
      </table>
    </div>
  );
}

function VersionForm(props: RulesPageProps) {
  const { ctx, form: f } = props;
  const e = props.errors.version;
  const { t, locale } = ctx;
  return (
    <section class="card" aria-labelledby="new-version-title" id="new-version">
      <h2 id="new-version-title">{t.rules_new_version}</h2>
      <p class="muted">{t.rules_new_version_intro}</p>
      <FormErrors errors={e} t={t} />
      <form method="post" action="/admin/rules#new-version" class="stack" novalidate>
        <Csrf token={ctx.csrfToken} />
        <input type="hidden" name="intent" value="version" />
        <input type="hidden" name="set" value={props.set.id} />
        {GROUPS.map((g) => (
          <fieldset class="stack">
            <legend>{t[`rules_group_${g.rule}`]}</legend>
            {g.keys.map((k) => {
              const def: ParameterDef = PARAMETERS[k];
              const unit = unitOf(def, t);
              const valueId = `v_${k}`;
              const consistency = CONSISTENCY[k];
              const hint = def.kind === 'flag' ? undefined : [t.rules_range({ min: plainNumber(def.min, locale), max: plainNumber(def.max, locale) }), consistency ? t[consistency] : ''].join(' ').trim();
              return (
                <fieldset class="stack" id={`param-${k}`}>
                  <legend>{t[`param_${k}`]}</legend>
                  <Field id={valueId} label={unit ? t.rules_value_unit({ unit }) : t.rules_value} error={e[valueId]} t={t} {...(hint ? { hint } : {})}>
                    {def.kind === 'flag' ? (
                      <select id={valueId} name={valueId} {...describedBy(valueId, e[valueId])}>
                        <option value="0" selected={f.values[k] !== '1'}>
                          {t.rules_flag_off}
                        </option>
                        <option value="1" selected={f.values[k] === '1'}>
                          {t.rules_flag_on}
                        </option>
                      </select>
                    ) : (
                      <input
                        id={valueId}
                        name={valueId}
                        value={f.values[k]}
                        inputmode={def.kind === 'days' || def.kind === 'count' ? 'numeric' : 'decimal'}
                        autocomplete="off"
                        maxlength={12}
                        required
                        {...describedBy(valueId, e[valueId], true)}
                      />
                    )}
                  </Field>
                  <Field id={`s_${k}`} label={t.rules_source} error={e[`s_${k}`]} t={t}>
                    <input id={`s_${k}`} name={`s_${k}`} value={f.sources[k]} maxlength={500} {...describedBy(`s_${k}`, e[`s_${k}`])} />
                  </Field>
                  <div class="field checkbox">
                    <input id={`c_${k}`} type="checkbox" name={`c_${k}`} value="1" checked={f.confirmed[k]} />
                    <label for={`c_${k}`}>{t.rules_confirmed_check}</label>
                  </div>
                </fieldset>
              );
            })}
          </fieldset>
        ))}
        <Field id="effectiveFrom" label={t.rules_effective_from} error={e.effectiveFrom} t={t} hint={t.rules_effective_from_hint}>
          <input id="effectiveFrom" name="effectiveFrom" value={f.effectiveFrom} maxlength={10} inputmode="numeric" placeholder="dd/mm/yyyy" autocomplete="off" required {...describedBy('effectiveFrom', e.effectiveFrom, true)} />
        </Field>
        <Field id="approvedBy" label={t.rules_approved_by} error={e.approvedBy} t={t} hint={t.rules_approved_by_hint}>
          <input id="approvedBy" name="approvedBy" value={f.approvedBy} maxlength={300} required {...describedBy('approvedBy', e.approvedBy, true)} />
        </Field>
        <Field id="note" label={t.rules_note} error={e.note} t={t}>
          <textarea id="note" name="note" rows={3} maxlength={1000} {...describedBy('note', e.note)}>
            {f.note}
          </textarea>
        </Field>
        <div class="actions">
          <button type="submit" class="primary">
            {t.rules_save_version}
          </button>
        </div>
      </form>
    </section>
  );
}

function ClinicAssignments(props: RulesPageProps) {
  const { ctx } = props;
  const { t } = ctx;
  const e = props.errors.assign;
  const defaultSet = props.sets.find((s) => s.isDefault);
  return (
    <section class="card" aria-labelledby="clinics-title" id="clinics">
      <h2 id="clinics-title">{t.rules_clinics}</h2>
      <p class="muted">{t.rules_clinics_intro}</p>
      <FormErrors errors={e} t={t} />
      {props.clinics.length === 0 ? (
        <p>{t.rules_no_clinics}</p>
      ) : (
        <ul class="tiles" hx-disable>
          {props.clinics.map((cl) => {
            const id = `rs_${cl.id}`;
            const current = cl.ruleSetId ?? defaultSet?.id ?? '';
            return (
              <li class="tile">
                <form method="post" action="/admin/rules" class="stack">
                  <Csrf token={ctx.csrfToken} />
                  <input type="hidden" name="intent" value="assign" />
                  <input type="hidden" name="set" value={props.set.id} />
                  <input type="hidden" name="clinicId" value={cl.id} />
                  <div class={e[id] ? 'field has-error' : 'field'}>
                    <label for={id}>{cl.name}</label>
                    <span class="muted">
                      <code>{cl.code}</code>
                      {!cl.active && ` · ${t.clinic_inactive}`}
                    </span>
                    <select id={id} name="ruleSetId" {...describedBy(id, e[id])}>
                      {props.sets.map((s) => (
                        <option value={s.isDefault ? '' : s.id} selected={s.id === current}>
                          {setName(s, t)}
                        </option>
                      ))}
                    </select>
                    {e[id] && (
                      <small id={`${id}-error`} class="error" role="alert">
                        {t[e[id]]}
                      </small>
                    )}
                  </div>
                  <div class="actions">
                    <button type="submit">{t.rules_assign}</button>
                  </div>
                </form>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function NewSetForm(props: RulesPageProps) {
  const { ctx, newSet: v } = props;
  const { t } = ctx;
  const e = props.errors.newSet;
  return (
    <section class="card" aria-labelledby="new-set-title" id="new-set">
      <h2 id="new-set-title">{t.rules_new_set}</h2>
      <p class="muted">{t.rules_new_set_intro}</p>
      <FormErrors errors={e} t={t} />
      <form method="post" action="/admin/rules#new-set" class="stack" novalidate>
        <Csrf token={ctx.csrfToken} />
        <input type="hidden" name="intent" value="new_set" />
        <input type="hidden" name="set" value={props.set.id} />
        <Field id="name" label={t.rules_new_set_name} error={e.name} t={t}>
          <input id="name" name="name" value={v.name} maxlength={200} required {...describedBy('name', e.name)} />
        </Field>
        <Field id="from" label={t.rules_new_set_from} error={e.from} t={t}>
          <select id="from" name="from" {...describedBy('from', e.from)}>
            {props.sets.map((s) => (
              <option value={s.id} selected={s.id === v.from}>
                {setName(s, t)}
              </option>
            ))}
          </select>
        </Field>
        <div class="actions">
          <button type="submit" class="primary">
            {t.rules_create_set}
          </button>
        </div>
      </form>
    </section>
  );
}
