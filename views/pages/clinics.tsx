import { Csrf, Field, FormErrors, PlacePicker, SelectField, describedBy, type Errors, type Option } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { Layout } from '../layout.tsx';

export interface ClinicView {
  id: string;
  code: string;
  name: string;
  kind: 'facility' | 'satellite';
  parentId: string | null;
  provinceName: string;
  communeName: string;
  address: string;
  timeZone: string;
  closingTime: string;
  active: boolean;
}

/** The form's values as strings: what the user typed is shown back as typed. */
export interface ClinicFormValues {
  code: string;
  name: string;
  kind: string;
  parentId: string;
  provinceCode: string;
  communeCode: string;
  address: string;
  timeZone: string;
  closingTime: string;
  pumpCalibrationMaxHours: string;
  active: string;
}

export type { Option };

export function ClinicListPage({ ctx, clinics }: { ctx: ViewContext; clinics: ClinicView[] }) {
  const { t } = ctx;
  const names = new Map(clinics.map((c) => [c.id, c.name]));
  return (
    <Layout ctx={ctx} title={t.clinics_title}>
      <div class="page-head">
        <h1>{t.clinics_title}</h1>
        <a class="button primary" href="/admin/clinics/new">
          {t.clinics_new}
        </a>
      </div>
      {clinics.length === 0 ? (
        <p>{t.clinics_empty}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t.clinic_code}</th>
                <th scope="col">{t.clinic_name}</th>
                <th scope="col">{t.clinic_kind}</th>
                <th scope="col">{t.clinic_location}</th>
                <th scope="col">{t.clinic_status}</th>
                <th scope="col">{t.actions}</th>
              </tr>
            </thead>
            <tbody hx-disable>
              {clinics.map((c) => (
                <tr>
                  <td>
                    <code>{c.code}</code>
                  </td>
                  <td>
                    <a href={`/clinics/${c.id}`}>{c.name}</a>
                    {c.parentId && <div class="muted">↳ {names.get(c.parentId) ?? ''}</div>}
                  </td>
                  <td>{t[`clinic_kind_${c.kind}`]}</td>
                  <td>
                    {c.communeName}, {c.provinceName}
                  </td>
                  <td>{c.active ? t.clinic_active : t.clinic_inactive}</td>
                  <td>
                    <a href={`/admin/clinics/${c.id}/edit`}>{t.clinic_edit}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Layout>
  );
}

export function ClinicFormPage(props: {
  ctx: ViewContext;
  mode: 'new' | 'edit';
  action: string;
  values: ClinicFormValues;
  errors: Errors;
  facilities: Option[];
  provinces: Option[];
  communes: Option[];
  timeZones: string[];
}) {
  const { ctx, values: v, errors: e, mode } = props;
  const { t } = ctx;
  const title = mode === 'new' ? t.clinics_new : t.clinic_edit_title;
  return (
    <Layout ctx={ctx} title={title}>
      <h1>{title}</h1>
      <FormErrors errors={e} t={t} />
      <form method="post" action={props.action} class="stack card" novalidate>
        <Csrf token={ctx.csrfToken} />
        <Field id="code" label={t.clinic_code} error={e.code} t={t} hint={t.clinic_code_hint}>
          <input id="code" name="code" value={v.code} maxlength={12} required disabled={mode === 'edit'} autocapitalize="characters" {...describedBy('code', e.code, true)} />
        </Field>
        <Field id="name" label={t.clinic_name} error={e.name} t={t}>
          <input id="name" name="name" value={v.name} maxlength={200} required {...describedBy('name', e.name)} />
        </Field>
        <Field id="kind" label={t.clinic_kind} error={e.kind} t={t}>
          <select id="kind" name="kind" {...describedBy('kind', e.kind)}>
            {(['facility', 'satellite'] as const).map((k) => (
              <option value={k} selected={v.kind === k}>
                {t[`clinic_kind_${k}`]}
              </option>
            ))}
          </select>
        </Field>
        <SelectField id="parentId" label={t.clinic_parent} error={e.parentId} t={t} value={v.parentId} options={props.facilities} empty={t.clinic_parent_none} />
        <PlacePicker ctx={ctx} labels={{ province: t.clinic_province, commune: t.clinic_commune }} values={v} errors={e} provinces={props.provinces} communes={props.communes} />
        <Field id="address" label={t.clinic_address} error={e.address} t={t}>
          <input id="address" name="address" value={v.address} maxlength={300} {...describedBy('address', e.address)} />
        </Field>
        <SelectField id="timeZone" label={t.clinic_time_zone} error={e.timeZone} t={t} value={v.timeZone} options={props.timeZones.map((z) => ({ value: z, label: z }))} />
        <Field id="closingTime" label={t.clinic_closing_time} error={e.closingTime} t={t} hint={t.clinic_closing_time_hint}>
          <input id="closingTime" name="closingTime" type="time" value={v.closingTime} required {...describedBy('closingTime', e.closingTime, true)} />
        </Field>
        <Field id="pumpCalibrationMaxHours" label={t.clinic_pump_cal_hours} error={e.pumpCalibrationMaxHours} t={t} hint={t.clinic_pump_cal_hours_hint}>
          <input id="pumpCalibrationMaxHours" name="pumpCalibrationMaxHours" inputmode="numeric" value={v.pumpCalibrationMaxHours} maxlength={3} required {...describedBy('pumpCalibrationMaxHours', e.pumpCalibrationMaxHours, true)} />
        </Field>
        <div class="field checkbox">
          <input type="hidden" name="active" value="false" />
          <input id="active" type="checkbox" name="active" value="true" checked={v.active !== 'false'} />
          <label for="active">{t.clinic_active}</label>
        </div>
        <div class="actions">
          <button type="submit" class="primary">
            {t.save}
          </button>
          <a href="/admin/clinics">{t.cancel}</a>
        </div>
      </form>
    </Layout>
  );
}

export function ClinicPage(props: { ctx: ViewContext; clinic: ClinicView; parentName: string | null; satellites: ClinicView[]; staff: { fullName: string; role: string }[] | null; serviceDay: string; canEdit: boolean }) {
  const { ctx, clinic: c } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={c.name}>
      <div class="page-head">
        <h1>{c.name}</h1>
        {props.canEdit && <a href={`/admin/clinics/${c.id}/edit`}>{t.clinic_edit}</a>}
      </div>
      <dl class="facts card" hx-disable>
        <dt>{t.clinic_code}</dt>
        <dd>
          <code>{c.code}</code>
        </dd>
        <dt>{t.clinic_kind}</dt>
        <dd>{t[`clinic_kind_${c.kind}`]}</dd>
        {props.parentName && (
          <>
            <dt>{t.clinic_parent}</dt>
            <dd>{props.parentName}</dd>
          </>
        )}
        <dt>{t.clinic_location}</dt>
        <dd>
          {c.address ? `${c.address}, ` : ''}
          {c.communeName}, {c.provinceName}
        </dd>
        <dt>{t.clinic_time_zone}</dt>
        <dd>{c.timeZone}</dd>
        <dt>{t.clinic_closing_time}</dt>
        <dd>{c.closingTime}</dd>
        <dt>{t.home_service_day}</dt>
        <dd>{props.serviceDay}</dd>
        <dt>{t.clinic_status}</dt>
        <dd>{c.active ? t.clinic_active : t.clinic_inactive}</dd>
      </dl>
      {props.satellites.length > 0 && (
        <section class="card">
          <h2>{t.clinic_satellites}</h2>
          <ul>
            {props.satellites.map((s) => (
              <li>
                <a href={`/clinics/${s.id}`}>{s.name}</a> <code>{s.code}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
      {props.staff && (
        <section class="card">
          <h2>{t.clinic_staff}</h2>
          <ul hx-disable>
            {props.staff.map((s) => (
              <li>
                {s.fullName} — {s.role}
              </li>
            ))}
          </ul>
        </section>
      )}
    </Layout>
  );
}
