// The admin's clinic pages: list, create, edit, and the commune picker fragment.
import { Hono } from 'hono';
import { z } from 'zod';
import { ClinicFormPage, ClinicListPage, type ClinicFormValues, type Option } from '../../views/pages/clinics.tsx';
import { CLINIC_KINDS } from '../../db/schema.ts';
import { isTimeZone } from '../config.ts';
import { Invalid, NotFound, type FieldErrors } from '../errors.ts';
import { createClinic, getClinic, listClinics, listCommunes, listProvinces, updateClinic, type ClinicInput } from '../services/clinics.ts';
import { actorOf, fieldErrors, flash, formBody, render, services, str, viewContext, type AppEnv, type Ctx } from './support.ts';

/** Time zones offered: Vietnam's, and its neighbours' for clinics near a border. */
const TIME_ZONES = ['Asia/Ho_Chi_Minh', 'Asia/Bangkok', 'Asia/Vientiane', 'Asia/Phnom_Penh'];

const text = (max: number) => z.string().trim().max(max, 'err_too_long');
const code = z.string().min(1, 'err_choose').transform(Number).pipe(z.number().int('err_choose').positive('err_choose'));

const ClinicForm = z.object({
  code: z.string().trim().toUpperCase().regex(/^[A-Z0-9]{2,12}$/, 'err_clinic_code_format'),
  name: text(200).min(1, 'err_required'),
  kind: z.enum(CLINIC_KINDS, 'err_choose'),
  parentId: z.union([z.literal('').transform(() => null), z.uuid('err_choose')]),
  provinceCode: code,
  communeCode: code,
  address: text(300),
  timeZone: z.string().refine(isTimeZone, 'err_time_zone'),
  closingTime: z.string().trim().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'err_closing_time'),
  pumpCalibrationMaxHours: z.string().trim().regex(/^\d{1,3}$/, 'err_pump_cal_hours').transform(Number).pipe(z.number().int().min(1, 'err_pump_cal_hours').max(720, 'err_pump_cal_hours')),
  active: z.enum(['true', 'false']).transform((v) => v === 'true'),
});

const Uuid = z.uuid();

function formValues(body: Record<string, string | string[]>): ClinicFormValues {
  return {
    code: str(body, 'code'),
    name: str(body, 'name'),
    kind: str(body, 'kind'),
    parentId: str(body, 'parentId'),
    provinceCode: str(body, 'provinceCode'),
    communeCode: str(body, 'communeCode'),
    address: str(body, 'address'),
    timeZone: str(body, 'timeZone') || 'Asia/Ho_Chi_Minh',
    closingTime: str(body, 'closingTime') || '17:00',
    pumpCalibrationMaxHours: str(body, 'pumpCalibrationMaxHours') || '24',
    active: str(body, 'active') || 'true',
  };
}

async function renderForm(c: Ctx, mode: 'new' | 'edit', action: string, values: ClinicFormValues, errors: FieldErrors, status: 200 | 422) {
  const { db } = c.var.deps;
  const all = await listClinics(db, null);
  const facilities: Option[] = all.filter((cl) => cl.kind === 'facility' && `/admin/clinics/${cl.id}` !== action).map((cl) => ({ value: cl.id, label: `${cl.name} (${cl.code})` }));
  const provinces: Option[] = (await listProvinces(db)).map((p) => ({ value: String(p.code), label: p.name }));
  const province = Number(values.provinceCode);
  const communes: Option[] = Number.isInteger(province) && province > 0 ? (await listCommunes(db, province, '')).map((cm) => ({ value: String(cm.code), label: cm.name })) : [];
  const timeZones = TIME_ZONES.includes(values.timeZone) || !isTimeZone(values.timeZone) ? TIME_ZONES : [values.timeZone, ...TIME_ZONES];
  return render(c, ClinicFormPage({ ctx: viewContext(c), mode, action, values, errors, facilities, provinces, communes, timeZones }), status);
}

async function clinicId(c: Ctx): Promise<string> {
  const id = Uuid.safeParse(c.req.param('clinicId'));
  if (!id.success) throw new NotFound('clinic');
  await getClinic(c.var.deps.db, id.data);
  return id.data;
}

export const adminClinicRoutes = new Hono<AppEnv>()
  .get('/admin/clinics', async (c) => render(c, ClinicListPage({ ctx: viewContext(c), clinics: await listClinics(c.var.deps.db, null) })))
  .get('/admin/clinics/new', (c) =>
    renderForm(c, 'new', '/admin/clinics', formValues({ kind: 'facility', timeZone: c.var.deps.config.DEFAULT_TIME_ZONE, closingTime: '17:00' }), {}, 200),
  )
  .post('/admin/clinics', async (c) => {
    const body = await formBody(c);
    const values = formValues(body);
    const parsed = ClinicForm.safeParse(values);
    if (!parsed.success) return renderForm(c, 'new', '/admin/clinics', values, fieldErrors(parsed.error), 422);
    try {
      const clinic = await createClinic(services(c), actorOf(c), parsed.data satisfies ClinicInput);
      flash(c, 'clinic_created', { name: clinic.name });
      return c.redirect('/admin/clinics', 303);
    } catch (e) {
      if (e instanceof Invalid) return renderForm(c, 'new', '/admin/clinics', values, e.fields, 422);
      throw e;
    }
  })
  .get('/admin/clinics/:clinicId/edit', async (c) => {
    const id = await clinicId(c);
    const cl = await getClinic(c.var.deps.db, id);
    const values: ClinicFormValues = {
      code: cl.code,
      name: cl.name,
      kind: cl.kind,
      parentId: cl.parentId ?? '',
      provinceCode: String(cl.provinceCode),
      communeCode: String(cl.communeCode),
      address: cl.address,
      timeZone: cl.timeZone,
      closingTime: cl.closingTime,
      pumpCalibrationMaxHours: String(cl.pumpCalibrationMaxHours),
      active: String(cl.active),
    };
    return renderForm(c, 'edit', `/admin/clinics/${id}`, values, {}, 200);
  })
  .post('/admin/clinics/:clinicId', async (c) => {
    const id = await clinicId(c);
    const existing = await getClinic(c.var.deps.db, id);
    const body = await formBody(c);
    const values = { ...formValues(body), code: existing.code };
    const action = `/admin/clinics/${id}`;
    const parsed = ClinicForm.safeParse(values);
    if (!parsed.success) return renderForm(c, 'edit', action, values, fieldErrors(parsed.error), 422);
    try {
      const { code: _code, ...changes } = parsed.data;
      const clinic = await updateClinic(services(c), actorOf(c), id, changes);
      // The pumps read the clinic's calibration limit and whether it is active.
      await c.var.deps.pumps?.load();
      flash(c, 'clinic_updated', { name: clinic.name });
      return c.redirect('/admin/clinics', 303);
    } catch (e) {
      if (e instanceof Invalid) return renderForm(c, 'edit', action, values, e.fields, 422);
      throw e;
    }
  });
