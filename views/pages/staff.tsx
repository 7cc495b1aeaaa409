import type { Role } from '../../db/schema.ts';
import { Csrf, Field, FormErrors, describedBy, type Errors } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { Layout } from '../layout.tsx';
import type { Option } from './clinics.tsx';

export interface StaffView {
  id: string;
  username: string;
  fullName: string;
  role: Role;
  active: boolean;
  clinicNames: string[];
}

export interface StaffFormValues {
  username: string;
  fullName: string;
  role: string;
  clinicIds: string[];
}

const ROLE_LIST: Role[] = ['nurse', 'doctor', 'counsellor', 'manager', 'admin'];

export function StaffListPage({ ctx, staff }: { ctx: ViewContext; staff: StaffView[] }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.staff_title}>
      <div class="page-head">
        <h1>{t.staff_title}</h1>
        <a class="button primary" href="/admin/staff/new">
          {t.staff_new}
        </a>
      </div>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t.staff_username}</th>
              <th scope="col">{t.staff_full_name}</th>
              <th scope="col">{t.staff_role}</th>
              <th scope="col">{t.staff_clinics}</th>
              <th scope="col">{t.staff_status}</th>
              <th scope="col">{t.actions}</th>
            </tr>
          </thead>
          <tbody hx-disable>
            {staff.map((s) => (
              <tr class={s.active ? '' : 'inactive'}>
                <td>
                  <code>{s.username}</code>
                </td>
                <td>{s.fullName}</td>
                <td>{t[`role_${s.role}`]}</td>
                <td>{s.clinicNames.join(', ')}</td>
                <td>{s.active ? t.staff_active : t.staff_inactive}</td>
                <td>
                  <a href={`/admin/staff/${s.id}/edit`}>{t.staff_edit}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}

function RoleAndClinics({ ctx, v, e, clinics }: { ctx: ViewContext; v: StaffFormValues; e: Errors; clinics: Option[] }) {
  const { t } = ctx;
  return (
    <>
      <Field id="role" label={t.staff_role} error={e.role} t={t}>
        <select id="role" name="role" {...describedBy('role', e.role)}>
          {ROLE_LIST.map((r) => (
            <option value={r} selected={v.role === r}>
              {t[`role_${r}`]}
            </option>
          ))}
        </select>
      </Field>
      <fieldset class={e.clinicIds ? 'field has-error' : 'field'} aria-describedby={e.clinicIds ? 'clinicIds-error' : undefined}>
        <legend>{t.staff_clinics}</legend>
        {clinics.map((c, i) => (
          <div class="checkbox">
            <input type="checkbox" id={`clinic-${i}`} name="clinicIds" value={c.value} checked={v.clinicIds.includes(c.value)} />
            <label for={`clinic-${i}`}>{c.label}</label>
          </div>
        ))}
        {e.clinicIds && (
          <small id="clinicIds-error" class="error" role="alert">
            {t[e.clinicIds]}
          </small>
        )}
      </fieldset>
    </>
  );
}

export function StaffNewPage(props: { ctx: ViewContext; values: StaffFormValues; errors: Errors; clinics: Option[] }) {
  const { ctx, values: v, errors: e } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.staff_new}>
      <h1>{t.staff_new}</h1>
      <FormErrors errors={e} t={t} />
      <form method="post" action="/admin/staff" class="stack card" novalidate>
        <Csrf token={ctx.csrfToken} />
        <Field id="username" label={t.staff_username} error={e.username} t={t} hint={t.staff_username_hint}>
          <input id="username" name="username" value={v.username} maxlength={32} required autocapitalize="none" spellcheck={false} autocomplete="off" {...describedBy('username', e.username, true)} />
        </Field>
        <Field id="fullName" label={t.staff_full_name} error={e.fullName} t={t}>
          <input id="fullName" name="fullName" value={v.fullName} maxlength={200} required {...describedBy('fullName', e.fullName)} />
        </Field>
        <RoleAndClinics ctx={ctx} v={v} e={e} clinics={props.clinics} />
        <Field id="password" label={t.staff_password} error={e.password} t={t} hint={t.staff_password_hint}>
          <input id="password" name="password" type="password" autocomplete="new-password" maxlength={128} required {...describedBy('password', e.password, true)} />
        </Field>
        <div class="actions">
          <button type="submit" class="primary">
            {t.save}
          </button>
          <a href="/admin/staff">{t.cancel}</a>
        </div>
      </form>
    </Layout>
  );
}

export function StaffEditPage(props: { ctx: ViewContext; id: string; username: string; active: boolean; values: StaffFormValues; errors: Errors; clinics: Option[]; isSelf: boolean }) {
  const { ctx, values: v, errors: e, id } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.staff_edit_title}>
      <h1>
        {t.staff_edit_title}: <code>{props.username}</code>
      </h1>
      <FormErrors errors={e} t={t} />
      <form method="post" action={`/admin/staff/${id}`} class="stack card" novalidate>
        <Csrf token={ctx.csrfToken} />
        <Field id="fullName" label={t.staff_full_name} error={e.fullName} t={t}>
          <input id="fullName" name="fullName" value={v.fullName} maxlength={200} required {...describedBy('fullName', e.fullName)} />
        </Field>
        <RoleAndClinics ctx={ctx} v={v} e={e} clinics={props.clinics} />
        <div class="actions">
          <button type="submit" class="primary">
            {t.save}
          </button>
          <a href="/admin/staff">{t.cancel}</a>
        </div>
      </form>

      <section class="card">
        <h2>{t.staff_reset_password}</h2>
        <form method="post" action={`/admin/staff/${id}/reset-password`} class="stack" novalidate>
          <Csrf token={ctx.csrfToken} />
          <Field id="password" label={t.staff_password} error={e.password} t={t} hint={t.staff_password_hint}>
            <input id="password" name="password" type="password" autocomplete="new-password" maxlength={128} required {...describedBy('password', e.password, true)} />
          </Field>
          <button type="submit">{t.staff_reset_password}</button>
        </form>
      </section>

      <section class="card">
        <h2>{t.staff_status}: {props.active ? t.staff_active : t.staff_inactive}</h2>
        {e.active && (
          <p class="error" role="alert">
            {t[e.active]}
          </p>
        )}
        {props.active ? (
          !props.isSelf && (
            <form method="post" action={`/admin/staff/${id}/deactivate`} data-confirm={t.staff_deactivate_confirm}>
              <Csrf token={ctx.csrfToken} />
              <button type="submit" class="danger">
                {t.staff_deactivate}
              </button>
            </form>
          )
        ) : (
          <form method="post" action={`/admin/staff/${id}/reactivate`}>
            <Csrf token={ctx.csrfToken} />
            <button type="submit">{t.staff_reactivate}</button>
          </form>
        )}
      </section>
    </Layout>
  );
}
