// The admin's staff account pages.
import { Hono } from 'hono';
import { z } from 'zod';
import { ROLES } from '../../db/schema.ts';
import type { Option } from '../../views/pages/clinics.tsx';
import { StaffEditPage, StaffListPage, StaffNewPage, type StaffFormValues } from '../../views/pages/staff.tsx';
import { Invalid, NotFound, type FieldErrors } from '../errors.ts';
import { normaliseUsername } from '../auth/login.ts';
import { createAccount, getAccount, listAccounts, resetPassword, setActive, updateAccount } from '../services/accounts.ts';
import { listClinics } from '../services/clinics.ts';
import { actorOf, fieldErrors, flash, formBody, list, render, services, str, viewContext, type AppEnv, type Ctx } from './support.ts';

const fullName = z.string().trim().min(1, 'err_required').max(200, 'err_too_long');
const role = z.enum(ROLES, 'err_choose');
const clinicIds = z.array(z.uuid('err_choose')).min(1, 'err_clinics_required').max(200);
const password = z.string().max(1024, 'err_password_length');

const NewStaff = z.object({
  username: z
    .string()
    .transform(normaliseUsername)
    .pipe(z.string().regex(/^[a-z0-9._-]{3,32}$/, 'err_username_format')),
  fullName,
  role,
  clinicIds,
  password,
});
const EditStaff = z.object({ fullName, role, clinicIds });
const Uuid = z.uuid();

async function clinicOptions(c: Ctx): Promise<Option[]> {
  return (await listClinics(c.var.deps.db, null)).map((cl) => ({ value: cl.id, label: `${cl.name} (${cl.code})` }));
}

function values(body: Record<string, string | string[]>): StaffFormValues {
  return { username: str(body, 'username'), fullName: str(body, 'fullName'), role: str(body, 'role'), clinicIds: list(body, 'clinicIds') };
}

async function userId(c: Ctx): Promise<string> {
  const id = Uuid.safeParse(c.req.param('userId'));
  if (!id.success) throw new NotFound('user');
  await getAccount(c.var.deps.db, id.data);
  return id.data;
}

async function renderEdit(c: Ctx, id: string, v: StaffFormValues | null, errors: FieldErrors, status: 200 | 422) {
  const account = await getAccount(c.var.deps.db, id);
  const shown = v ?? { username: account.username, fullName: account.fullName, role: account.role, clinicIds: account.clinicIds };
  return render(
    c,
    StaffEditPage({ ctx: viewContext(c), id, username: account.username, active: account.active, values: shown, errors, clinics: await clinicOptions(c), isSelf: id === c.var.session!.user.id }),
    status,
  );
}

export const adminStaffRoutes = new Hono<AppEnv>()
  .get('/admin/staff', async (c) => {
    const { db } = c.var.deps;
    const names = new Map((await listClinics(db, null)).map((cl) => [cl.id, cl.name]));
    const staff = (await listAccounts(db, null)).map((a) => ({ ...a, clinicNames: a.clinicIds.map((id) => names.get(id) ?? '') }));
    return render(c, StaffListPage({ ctx: viewContext(c), staff }));
  })
  .get('/admin/staff/new', async (c) =>
    render(c, StaffNewPage({ ctx: viewContext(c), values: { username: '', fullName: '', role: 'nurse', clinicIds: [] }, errors: {}, clinics: await clinicOptions(c) })),
  )
  .post('/admin/staff', async (c) => {
    const body = await formBody(c);
    const v = values(body);
    const again = async (errors: FieldErrors) => render(c, StaffNewPage({ ctx: viewContext(c), values: v, errors, clinics: await clinicOptions(c) }), 422);
    const parsed = NewStaff.safeParse({ ...v, password: str(body, 'password') });
    if (!parsed.success) return again(fieldErrors(parsed.error));
    try {
      const account = await createAccount(services(c), actorOf(c), parsed.data);
      flash(c, 'staff_created', { username: account.username });
      return c.redirect('/admin/staff', 303);
    } catch (e) {
      if (e instanceof Invalid) return again(e.fields);
      throw e;
    }
  })
  .get('/admin/staff/:userId/edit', async (c) => renderEdit(c, await userId(c), null, {}, 200))
  .post('/admin/staff/:userId', async (c) => {
    const id = await userId(c);
    const v = values(await formBody(c));
    const parsed = EditStaff.safeParse(v);
    if (!parsed.success) return renderEdit(c, id, v, fieldErrors(parsed.error), 422);
    try {
      const account = await updateAccount(services(c), actorOf(c), id, parsed.data);
      flash(c, 'staff_updated', { username: account.username });
      return c.redirect('/admin/staff', 303);
    } catch (e) {
      if (e instanceof Invalid) return renderEdit(c, id, v, e.fields, 422);
      throw e;
    }
  })
  .post('/admin/staff/:userId/reset-password', async (c) => {
    const id = await userId(c);
    const parsed = password.safeParse(str(await formBody(c), 'password'));
    try {
      if (!parsed.success) throw new Invalid({ password: 'err_password_length' });
      const account = await resetPassword(services(c), actorOf(c), id, parsed.data);
      flash(c, 'staff_reset_done', { username: account.username });
      return c.redirect(`/admin/staff/${id}/edit`, 303);
    } catch (e) {
      if (e instanceof Invalid) return renderEdit(c, id, null, e.fields, 422);
      throw e;
    }
  })
  .post('/admin/staff/:userId/deactivate', async (c) => {
    const id = await userId(c);
    try {
      const account = await setActive(services(c), actorOf(c), id, false);
      flash(c, 'staff_deactivated', { username: account.username });
      return c.redirect(`/admin/staff/${id}/edit`, 303);
    } catch (e) {
      if (e instanceof Invalid) return renderEdit(c, id, null, e.fields, 422);
      throw e;
    }
  })
  .post('/admin/staff/:userId/reactivate', async (c) => {
    const id = await userId(c);
    const account = await setActive(services(c), actorOf(c), id, true);
    flash(c, 'staff_reactivated', { username: account.username });
    return c.redirect(`/admin/staff/${id}/edit`, 303);
  });
