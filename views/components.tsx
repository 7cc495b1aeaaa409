import type { Child } from 'hono/jsx';
import type { ViewContext } from './context.ts';
import type { MessageKey, Messages, TextKey } from './i18n/index.ts';

export type Errors = Record<string, TextKey>;

/** A labelled form field with its message; the message is tied to the input for screen readers. */
export function Field(props: { id: string; label: string; error?: TextKey | undefined; t: Messages; hint?: string; children: Child }) {
  const { id, error, t } = props;
  return (
    <div class={error ? 'field has-error' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.children}
      {props.hint && (
        <small id={`${id}-hint`} class="hint">
          {props.hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} class="error" role="alert">
          {t[error]}
        </small>
      )}
    </div>
  );
}

/** aria attributes for an input inside a Field. */
export function describedBy(id: string, error: TextKey | undefined, hint?: boolean) {
  const ids = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ');
  return { 'aria-describedby': ids || undefined, 'aria-invalid': error ? 'true' : undefined };
}

/** The summary above a form; `_` holds an error of the whole form (not of one field). */
export function FormErrors({ errors, t }: { errors: Errors; t: Messages }) {
  if (errors._) {
    return (
      <p class="form-errors" role="alert">
        {t[errors._]}
      </p>
    );
  }
  return Object.keys(errors).length ? (
    <p class="form-errors" role="alert">
      {t.form_has_errors}
    </p>
  ) : null;
}

export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

export interface FindingView {
  rule: string;
  code: string;
  values: Record<string, number | string>;
}

/** A finding's message from the catalogue (`rule_<code>`), with its values. */
export function findingMessage(ctx: ViewContext, f: FindingView): string {
  const m = ctx.t[`rule_${f.code}` as MessageKey] as unknown;
  if (typeof m === 'function') return (m as (p: Record<string, number | string>) => string)(f.values);
  return typeof m === 'string' ? m : f.code;
}

export function Findings({ ctx, findings, title }: { ctx: ViewContext; findings: FindingView[]; title: string }) {
  if (findings.length === 0) return null;
  return (
    <section class="card warn" role="alert">
      <p>
        <strong>{title}</strong>
      </p>
      <ul class="findings">
        {findings.map((f) => (
          <li>
            <span class="badge">{f.rule}</span> {findingMessage(ctx, f)}
          </li>
        ))}
      </ul>
    </section>
  );
}


export interface Option {
  value: string;
  label: string;
}

/** A labelled select with its message; `empty` adds a first "choose" option. */
export function SelectField(props: { id: string; name?: string; label: string; error?: TextKey | undefined; t: Messages; value: string; options: Option[]; empty?: string; disabled?: boolean }) {
  const { id, error } = props;
  return (
    <Field id={id} label={props.label} error={error} t={props.t}>
      <select id={id} name={props.name ?? id} disabled={props.disabled} {...describedBy(id, error)}>
        {props.empty !== undefined && <option value="">{props.empty}</option>}
        {props.options.map((o) => (
          <option value={o.value} selected={props.value === o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

/**
 * Province and commune of the 2025 two-tier list: choosing a province, or
 * typing part of a commune's name (diacritics optional), reloads the commune
 * options through htmx.
 */
export function PlacePicker(props: { ctx: ViewContext; labels: { province: string; commune: string }; values: { provinceCode: string; communeCode: string }; errors: Errors; provinces: Option[]; communes: Option[] }) {
  const { ctx, errors: e, values: v } = props;
  const { t } = ctx;
  const reload = { 'hx-get': '/places/communes', 'hx-target': '#communeCode', 'hx-include': '#provinceCode, #communeSearch' };
  return (
    <>
      <Field id="provinceCode" label={props.labels.province} error={e.provinceCode} t={t}>
        <select id="provinceCode" name="provinceCode" hx-trigger="change" {...reload} {...describedBy('provinceCode', e.provinceCode)}>
          <option value="">{t.clinic_province_choose}</option>
          {props.provinces.map((o) => (
            <option value={o.value} selected={v.provinceCode === o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </Field>
      <Field id="communeCode" label={props.labels.commune} error={e.communeCode} t={t}>
        <input id="communeSearch" name="q" type="search" placeholder={t.clinic_commune_search} aria-label={t.clinic_commune_search} autocomplete="off" hx-trigger="input changed delay:250ms, search" {...reload} />
        <select id="communeCode" name="communeCode" {...describedBy('communeCode', e.communeCode)}>
          <CommuneOptions t={t} communes={props.communes} selected={v.communeCode} />
        </select>
      </Field>
    </>
  );
}

/** The commune options of a province: also the htmx fragment swapped into the select. */
export function CommuneOptions({ t, communes, selected }: { t: Messages; communes: Option[]; selected: string }) {
  return (
    <>
      <option value="">{t.clinic_commune_choose}</option>
      {communes.map((o) => (
        <option value={o.value} selected={selected === o.value}>
          {o.label}
        </option>
      ))}
    </>
  );
}
