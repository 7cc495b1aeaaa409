// Patients: search, registration, the patient page, photos, and the acts on
// an episode (enrol, end, transfer, guest dosing), orders and urine tests.
import { Hono } from 'hono';
import { z } from 'zod';
import { END_REASONS, type Role } from '../../db/schema.ts';
import type { Errors, FindingView } from '../../views/components.tsx';
import type { Option } from '../../views/pages/clinics.tsx';
import { OrderFormPage } from '../../views/pages/order-form.tsx';
import { PatientFormPage, type PatientFormValues } from '../../views/pages/patient-form.tsx';
import { PatientPage, type PatientPageData } from '../../views/pages/patient.tsx';
import { PatientSearchPage, SearchResults, type SearchView } from '../../views/pages/patients.tsx';
import { can } from '../auth/permissions.ts';
import { serviceDay } from '../clock.ts';
import { PHASES, type Finding } from '../dosing/orders.ts';
import { Conflict, Invalid, NotFound, Refused, type FieldErrors } from '../errors.ts';
import { audit } from '../services/audit.ts';
import { listClinics, listCommunes, listProvinces } from '../services/clinics.ts';
import { authoriseGuest, endEpisode, enrol, transfer } from '../services/episodes.ts';
import { inForce, ordersOfPatient, prescribe, recordUrineTest, SUBSTANCES } from '../services/orders.ts';
import { dayInput, patientSchema, text } from '../services/patient-schema.ts';
import { patientRecord } from '../services/patient-record.ts';
import { alertsOf, contactsOf, groundsOf } from '../services/follow-up.ts';
import { addDays } from '../dosing/days.ts';
import { addPhoto, counsellorsAt, MAX_PHOTO_BYTES, findDuplicates, getPatientInScope, latestPhoto, registerPatient, searchPatients, updatePatient, type PatientInput } from '../services/patients.ts';
import { rulesForClinic } from '../services/rule-sets.ts';
import { actorOf, clientAddress, fieldErrors, flash, formBody, render, scopeOf, services, str, viewContext, type AppEnv, type Ctx } from './support.ts';

const PAGE_SIZE = 20;
const Uuid = z.uuid();
const PageQuery = z.coerce.number().int().min(1).max(100_000).catch(1);

/** mg as people type it: "80", "82,5" or "82.5"; at most one decimal. */
const mg = z
  .string()
  .trim()
  .min(1, 'err_mg')
  .transform((s) => s.replace(',', '.'))
  .pipe(z.string().regex(/^\d{1,5}(\.\d)?$/, 'err_mg'))
  .transform(Number);

const FORM_FIELDS = ['fullName', 'birthDate', 'sex', 'nationalId', 'phone', 'phone2', 'street', 'provinceCode', 'communeCode', 'formerAddress', 'nextOfKinName', 'nextOfKinPhone', 'homeClinicId', 'counsellorId', 'hivStatus', 'photoData'] as const;

function role(c: Ctx): Role {
  return c.var.session!.user.role;
}

/** "Today" for the user: the service day at their first clinic (the clinics of one programme share a zone). */
async function todayFor(c: Ctx, clinicId?: string): Promise<{ day: string; timeZone: string }> {
  const { db, clock, config } = c.var.deps;
  const ids = clinicId ? [clinicId] : c.var.session!.user.clinicIds;
  const [first] = ids.length ? await listClinics(db, ids.slice(0, 1)) : [];
  const timeZone = first?.timeZone ?? config.DEFAULT_TIME_ZONE;
  return { day: serviceDay(clock.now(), timeZone), timeZone };
}

async function patientIdOf(c: Ctx): Promise<string> {
  const id = Uuid.safeParse(c.req.param('patientId'));
  if (!id.success) throw new NotFound('patient');
  await getPatientInScope(c.var.deps.db, id.data, scopeOf(c));
  return id.data;
}

function decodePhoto(dataUrl: string): Uint8Array | 'err_photo_type' | null {
  if (!dataUrl) return null;
  const m = /^data:image\/jpeg;base64,([A-Za-z0-9+/=]+)$/.exec(dataUrl);
  if (!m) return 'err_photo_type';
  return new Uint8Array(Buffer.from(m[1]!, 'base64'));
}

// ---------------------------------------------------------------------------
// The registration and edit form.

async function renderPatientForm(c: Ctx, mode: 'new' | 'edit', action: string, values: PatientFormValues, errors: FieldErrors, status: 200 | 409 | 422, duplicates: Awaited<ReturnType<typeof findDuplicates>> = []) {
  const { db } = c.var.deps;
  const user = c.var.session!.user;
  const own = await listClinics(db, scopeOf(c));
  const clinics: Option[] = own.map((cl) => ({ value: cl.id, label: `${cl.name} (${cl.code})` }));
  const counsellors: Option[] = (await counsellorsAt(db, own.map((cl) => cl.id))).map((u) => ({ value: u.id, label: `${u.fullName} — ${own.find((cl) => cl.id === u.clinicId)?.code ?? ''}` }));
  const provinces: Option[] = (await listProvinces(db)).map((p) => ({ value: String(p.code), label: p.name }));
  const province = Number(values.provinceCode);
  const communes: Option[] = Number.isInteger(province) && province > 0 ? (await listCommunes(db, province, '')).map((cm) => ({ value: String(cm.code), label: cm.name })) : [];
  return render(
    c,
    PatientFormPage({
      ctx: viewContext(c),
      mode,
      action,
      values,
      errors,
      clinics,
      counsellors: [...new Map(counsellors.map((o) => [o.value, o])).values()],
      provinces,
      communes,
      duplicates,
      showNationalId: can(user.role, 'patient.national_id'),
      showHiv: can(user.role, 'patient.hiv'),
    }),
    status,
  );
}

/** base64 makes 4 characters of 3 bytes; the prefix is short. */
const MAX_PHOTO_DATA_URL = Math.ceil((MAX_PHOTO_BYTES * 4) / 3) + 64;

function formValues(body: Record<string, string | string[]>): PatientFormValues {
  return Object.fromEntries(FORM_FIELDS.map((k) => [k, str(body, k).slice(0, k === 'photoData' ? MAX_PHOTO_DATA_URL : 500)])) as PatientFormValues;
}

/** Parses the form; fields the role may not see keep what the record holds. */
async function parsePatient(c: Ctx, v: PatientFormValues, existing: { nationalId: string | null; hivStatus: PatientInput['hivStatus']; homeClinicId: string } | null): Promise<{ ok: true; input: PatientInput } | { ok: false; errors: FieldErrors }> {
  const r = role(c);
  const { day } = await todayFor(c);
  const parsed = patientSchema(day).safeParse({
    ...v,
    nationalId: can(r, 'patient.national_id') ? v.nationalId : '',
    hivStatus: can(r, 'patient.hiv') ? v.hivStatus || 'unknown' : 'unknown',
  });
  const errors: FieldErrors = parsed.success ? {} : fieldErrors(parsed.error);
  const homeClinicId = existing?.homeClinicId ?? v.homeClinicId;
  if (!Uuid.safeParse(homeClinicId).success) errors.homeClinicId = 'err_choose';
  if (v.counsellorId && !Uuid.safeParse(v.counsellorId).success) errors.counsellorId = 'err_choose';
  if (!parsed.success || Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    input: {
      ...parsed.data,
      nationalId: can(r, 'patient.national_id') ? parsed.data.nationalId : (existing?.nationalId ?? null),
      hivStatus: can(r, 'patient.hiv') ? parsed.data.hivStatus : (existing?.hivStatus ?? 'unknown'),
      homeClinicId,
      counsellorId: v.counsellorId || null,
    },
  };
}

const emptyValues = (homeClinicId: string): PatientFormValues => ({ ...(Object.fromEntries(FORM_FIELDS.map((k) => [k, ''])) as PatientFormValues), sex: 'male', hivStatus: 'unknown', homeClinicId });

// ---------------------------------------------------------------------------
// The patient page, with a form's errors and values when one was refused.

export async function renderPatientPage(
  c: Ctx,
  id: string,
  opts: { errors?: Errors; openForm?: string; values?: Record<string, string>; findings?: FindingView[]; reviewError?: { alertId: string; note: string }; status?: 200 | 409 | 422 } = {},
) {
  const { db } = c.var.deps;
  const user = c.var.session!.user;
  const scope = scopeOf(c);
  const { day } = await todayFor(c);
  const rec = await patientRecord(db, id, scope, day);
  const r = user.role;
  const clinics = await listClinics(db, null);
  const d: PatientPageData = {
    patient: {
      id,
      code: rec.patient.code,
      fullName: rec.patient.fullName,
      birthDate: rec.patient.birthDate,
      age: rec.age,
      sex: rec.patient.sex,
      // Absent from the page (not hidden) for roles that may not see them.
      nationalId: can(r, 'patient.national_id') ? rec.patient.nationalId : undefined,
      hivStatus: can(r, 'patient.hiv') ? rec.patient.hivStatus : undefined,
      phone: rec.patient.phone,
      phone2: rec.patient.phone2,
      address: rec.address,
      formerAddress: rec.patient.formerAddress,
      nextOfKinName: rec.patient.nextOfKinName,
      nextOfKinPhone: rec.patient.nextOfKinPhone,
      clinicName: rec.clinicName,
      counsellorName: rec.counsellorName,
      hasPhoto: rec.hasPhoto,
    },
    today: day,
    timeZone: rec.timeZone,
    episode: rec.open ? { ...rec.episodes.find((e) => e.id === rec.open!.id)!, endReason: null } : null,
    episodes: rec.episodes,
    doses: rec.doses,
    orderToday: rec.orderToday
      ? {
          ...rec.orderToday,
          splitMg: rec.orderToday.splitFirstMg !== null ? [rec.orderToday.splitFirstMg, rec.orderToday.splitSecondMg!] : null,
          prescriber: '',
          confirmedBy: null,
          overrides: [],
          ml: rec.orderToday.ml,
          dailyMg: rec.orderToday.dailyMg,
        }
      : null,
    orders: rec.orders.map((o) => ({
      phase: o.phase,
      startDate: o.startDate,
      endDate: o.endDate,
      dailyMg: o.dailyMg,
      splitMg: o.splitFirstMg !== null ? [o.splitFirstMg, o.splitSecondMg!] : null,
      takeHomeDays: o.takeHomeDays,
      reason: o.reason,
      prescriber: o.prescriber,
      confirmedBy: o.confirmedByName,
      overrides: o.findings.filter((f) => f.severity !== 'warn').map((f) => f.rule),
      createdAt: o.createdAt,
    })),
    guests: rec.guests,
    calendar: rec.calendar,
    urine: rec.urine.map((u) => ({ testDate: u.testDate, results: u.results })),
    audit: rec.audit.map((a) => ({ ...a, timeZone: a.timeZone ?? rec.timeZone })),
    clinicsForTransfer: clinics.filter((cl) => cl.active && cl.id !== rec.patient.homeClinicId).map((cl) => ({ value: cl.id, label: `${cl.name} (${cl.code})` })),
    substances: SUBSTANCES,
    can: { edit: can(r, 'patient.edit'), episodes: can(r, 'episode.manage'), guests: can(r, 'guest.authorise'), prescribe: can(r, 'order.prescribe'), urine: can(r, 'urine.record') },
    errors: opts.errors ?? {},
    openForm: opts.openForm ?? null,
    formValues: opts.values ?? {},
    findings: opts.findings ?? [],
    followup: can(r, 'followup.view')
      ? {
          alerts: (await alertsOf(db, id)).map((a) => ({
            id: a.id,
            level: a.level,
            since: addDays(a.anchor_day, 1),
            raisedDay: a.raised_day,
            missedDays: Number(a.missed_days),
            grounds: groundsOf(a.reasons),
            closedAs: a.closed_as,
            closedNote: can(r, 'contact.notes') ? a.closed_note : '',
          })),
          canReview: can(r, 'termination.review'),
          reviewError: opts.reviewError,
          contacts: (await contactsOf(db, id, can(r, 'contact.notes'))).map((x) => ({
            id: x.id,
            at: new Date(x.at),
            method: x.method,
            outcome: x.outcome,
            returnDate: x.return_date,
            holdUntil: x.hold_until,
            nextActionDate: x.next_action_date,
            note: x.note,
            byName: x.by_name,
          })),
        }
      : null,
  };
  return render(c, PatientPage({ ctx: viewContext(c), d }), opts.status ?? 200);
}

/** Runs a form act on the patient page: on a refusal the page comes back with the form open, values kept. */
async function pageAct(c: Ctx, form: string, act: (body: Record<string, string | string[]>, id: string) => Promise<{ flash: Parameters<typeof flash>[1] }>) {
  const id = await patientIdOf(c);
  const body = await formBody(c);
  const values = Object.fromEntries(Object.entries(body).filter(([k]) => k !== '_csrf').map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v).slice(0, 500)]));
  try {
    const r = await act(body, id);
    flash(c, r.flash);
    return c.redirect(`/patients/${id}`, 303);
  } catch (e) {
    if (e instanceof Invalid) return renderPatientPage(c, id, { errors: e.fields, openForm: form, values, status: 422 });
    if (e instanceof Conflict) return renderPatientPage(c, id, { errors: { _: e.messageKey }, openForm: form, values, status: 409 });
    if (e instanceof Refused) return renderPatientPage(c, id, { findings: [...e.findings], openForm: form, values, status: 422 });
    throw e;
  }
}

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Invalid(fieldErrors(r.error));
  return r.data;
}

export const patientRoutes = new Hono<AppEnv>()
  .get('/patients', async (c) => {
    const q = (c.req.query('q') ?? '').slice(0, 100);
    const page = PageQuery.parse(c.req.query('page'));
    const { rows, total, capped } = await searchPatients(c.var.deps.db, q, scopeOf(c), page, PAGE_SIZE);
    const r = role(c);
    const s: SearchView = { q, page, total, capped, pageSize: PAGE_SIZE, rows, canRegister: can(r, 'patient.edit'), canImport: can(r, 'patient.import') };
    // htmx swaps just the results while typing; a history restore gets the whole page.
    if (c.req.header('hx-target') === 'results' && !c.req.header('hx-history-restore-request')) return c.html(String(SearchResults({ ctx: viewContext(c), s })));
    return render(c, PatientSearchPage({ ctx: viewContext(c), s }));
  })
  .get('/patients/new', async (c) => renderPatientForm(c, 'new', '/patients', emptyValues(c.var.session!.user.clinicIds[0] ?? ''), {}, 200))
  .post('/patients', async (c) => {
    const body = await formBody(c);
    const v = formValues(body);
    const parsed = await parsePatient(c, v, null);
    // A data URL longer than the largest photo allowed is refused before decoding (and not echoed back).
    const tooBig = str(body, 'photoData').length > MAX_PHOTO_DATA_URL;
    const photo = tooBig ? null : decodePhoto(v.photoData);
    if (!parsed.ok || photo === 'err_photo_type' || tooBig) {
      const errors = parsed.ok ? {} : parsed.errors;
      if (photo === 'err_photo_type') errors.photo = 'err_photo_type';
      if (tooBig) errors.photo = 'err_photo_size';
      return renderPatientForm(c, 'new', '/patients', tooBig ? { ...v, photoData: '' } : v, errors, 422);
    }
    const scope = scopeOf(c);
    // Possible duplicates are shown before a new patient is saved, until the user confirms.
    const duplicates = await findDuplicates(c.var.deps.db, parsed.input, scope);
    const sameId = duplicates.some((d) => d.reason === 'national_id');
    if (sameId) return renderPatientForm(c, 'new', '/patients', v, { nationalId: 'err_national_id_taken' }, 422, duplicates);
    if (duplicates.length && str(body, 'confirmNew') !== '1') return renderPatientForm(c, 'new', '/patients', v, {}, 409, duplicates);
    try {
      const p = await registerPatient(services(c), actorOf(c), parsed.input, scope, photo);
      flash(c, 'patient_created', { code: p.code });
      return c.redirect(`/patients/${p.id}`, 303);
    } catch (e) {
      if (e instanceof Invalid) return renderPatientForm(c, 'new', '/patients', v, e.fields, 422);
      throw e;
    }
  })
  .get('/patients/:patientId', async (c) => {
    const id = await patientIdOf(c);
    const { db, clock } = c.var.deps;
    const p = await getPatientInScope(db, id, scopeOf(c));
    // Circular 46/2018: views of a medical record are logged.
    await audit(db, { action: 'patient_view', actorId: c.var.session!.user.id, clinicId: p.homeClinicId, entityType: 'patient', entityId: id, address: clientAddress(c), at: clock.now() });
    return renderPatientPage(c, id);
  })
  .get('/patients/:patientId/edit', async (c) => {
    const id = await patientIdOf(c);
    const p = await getPatientInScope(c.var.deps.db, id, scopeOf(c));
    const r = role(c);
    const v: PatientFormValues = {
      fullName: p.fullName,
      birthDate: p.birthDate,
      sex: p.sex,
      nationalId: can(r, 'patient.national_id') ? (p.nationalId ?? '') : '',
      phone: p.phone,
      phone2: p.phone2,
      street: p.street,
      provinceCode: p.provinceCode ? String(p.provinceCode) : '',
      communeCode: p.communeCode ? String(p.communeCode) : '',
      formerAddress: p.formerAddress,
      nextOfKinName: p.nextOfKinName,
      nextOfKinPhone: p.nextOfKinPhone,
      homeClinicId: p.homeClinicId,
      counsellorId: p.counsellorId ?? '',
      hivStatus: can(r, 'patient.hiv') ? p.hivStatus : '',
      photoData: '',
    };
    return renderPatientForm(c, 'edit', `/patients/${id}`, v, {}, 200);
  })
  .post('/patients/:patientId', async (c) => {
    const id = await patientIdOf(c);
    const existing = await getPatientInScope(c.var.deps.db, id, scopeOf(c));
    const v = { ...formValues(await formBody(c)), homeClinicId: existing.homeClinicId };
    const parsed = await parsePatient(c, v, existing);
    if (!parsed.ok) return renderPatientForm(c, 'edit', `/patients/${id}`, v, parsed.errors, 422);
    try {
      await updatePatient(services(c), actorOf(c), id, parsed.input, scopeOf(c));
      flash(c, 'patient_updated');
      return c.redirect(`/patients/${id}`, 303);
    } catch (e) {
      if (e instanceof Invalid) return renderPatientForm(c, 'edit', `/patients/${id}`, v, e.fields, 422);
      throw e;
    }
  })
  .get('/patients/:patientId/photo', async (c) => {
    const id = await patientIdOf(c);
    const jpeg = await latestPhoto(c.var.deps.db, id);
    if (!jpeg) throw new NotFound('photo');
    c.header('Content-Type', 'image/jpeg');
    c.header('Cache-Control', 'no-store');
    return c.body(jpeg as Uint8Array<ArrayBuffer>);
  })
  .post('/patients/:patientId/photo', (c) =>
    pageAct(c, 'photo', async (body, id) => {
      const photo = decodePhoto(str(body, 'photoData'));
      if (photo === null) throw new Invalid({ photo: 'err_photo_missing' });
      if (photo === 'err_photo_type') throw new Invalid({ photo: 'err_photo_type' });
      await addPhoto(services(c), actorOf(c), id, photo, scopeOf(c));
      return { flash: 'patient_photo_saved' };
    }),
  )
  .post('/patients/:patientId/episodes', (c) =>
    pageAct(c, 'enrol', async (body, id) => {
      const input = parseOrThrow(z.object({ startDate: dayInput, referralSource: text(200) }), { startDate: str(body, 'startDate'), referralSource: str(body, 'referralSource') });
      await enrol(services(c), actorOf(c), { patientId: id, ...input }, scopeOf(c));
      return { flash: 'episode_enrolled' };
    }),
  )
  .post('/patients/:patientId/episodes/end', (c) =>
    pageAct(c, 'end', async (body, id) => {
      const input = parseOrThrow(z.object({ endDate: dayInput, reason: z.enum(END_REASONS, 'err_choose'), note: text(500) }), { endDate: str(body, 'endDate'), reason: str(body, 'reason'), note: str(body, 'note') });
      await endEpisode(services(c), actorOf(c), { patientId: id, ...input }, scopeOf(c));
      return { flash: 'episode_ended' };
    }),
  )
  .post('/patients/:patientId/transfer', (c) =>
    pageAct(c, 'transfer', async (body, id) => {
      const input = parseOrThrow(z.object({ toClinicId: z.uuid('err_choose'), date: dayInput, note: text(500) }), { toClinicId: str(body, 'toClinicId'), date: str(body, 'date'), note: str(body, 'note') });
      await transfer(services(c), actorOf(c), { patientId: id, ...input }, scopeOf(c));
      return { flash: 'episode_transferred' };
    }),
  )
  .post('/patients/:patientId/guests', (c) =>
    pageAct(c, 'guest', async (body, id) => {
      const input = parseOrThrow(z.object({ hostClinicId: z.uuid('err_choose'), fromDate: dayInput, toDate: dayInput, reason: text(300) }), {
        hostClinicId: str(body, 'hostClinicId'),
        fromDate: str(body, 'fromDate'),
        toDate: str(body, 'toDate'),
        reason: str(body, 'reason'),
      });
      await authoriseGuest(services(c), actorOf(c), { patientId: id, ...input }, scopeOf(c));
      return { flash: 'guest_authorised' };
    }),
  )
  .post('/patients/:patientId/urine-tests', (c) =>
    pageAct(c, 'urine', async (body, id) => {
      const testDate = parseOrThrow(dayInput, str(body, 'testDate'));
      const results: Partial<Record<(typeof SUBSTANCES)[number], 'positive' | 'negative'>> = {};
      for (const s of SUBSTANCES) {
        const v = str(body, `r_${s}`);
        if (v === 'positive' || v === 'negative') results[s] = v;
      }
      await recordUrineTest(services(c), actorOf(c), { patientId: id, testDate, results }, scopeOf(c));
      return { flash: 'urine_recorded' };
    }),
  )
  .get('/patients/:patientId/orders/new', async (c) => {
    const id = await patientIdOf(c);
    return renderOrderForm(c, id, {}, {}, [], 200);
  })
  .post('/patients/:patientId/orders', async (c) => {
    const id = await patientIdOf(c);
    const body = await formBody(c);
    const values = Object.fromEntries(['phase', 'dailyMg', 'startDate', 'endDate', 'split', 'splitFirstMg', 'splitSecondMg', 'takeHomeDays', 'takeHomeChecklist', 'reason', 'secondDoctorUsername'].map((k) => [k, str(body, k).slice(0, 1000)]));
    const split = values.split === '1';
    const parsed = z
      .object({
        phase: z.enum(PHASES, 'err_choose'),
        dailyMg: mg,
        startDate: dayInput,
        endDate: dayInput,
        splitFirstMg: split ? mg : z.any(),
        splitSecondMg: split ? mg : z.any(),
        takeHomeDays: z
          .string()
          .trim()
          .transform((s) => s || '0')
          .pipe(z.string().regex(/^\d{1,2}$/, 'err_days'))
          .transform(Number),
        reason: text(1000),
      })
      .safeParse(values);
    if (!parsed.success) return renderOrderForm(c, id, values, fieldErrors(parsed.error), [], 422);
    const d = parsed.data;
    try {
      const result = await prescribe(
        services(c),
        actorOf(c),
        {
          patientId: id,
          draft: { phase: d.phase, startDate: d.startDate, endDate: d.endDate, dailyMg: d.dailyMg, splitMg: split ? [d.splitFirstMg as number, d.splitSecondMg as number] : null, takeHomeDays: d.takeHomeDays },
          reason: d.reason,
          takeHomeChecklist: values.takeHomeChecklist === '1',
          secondDoctor: values.secondDoctorUsername ? { username: values.secondDoctorUsername, password: str(body, 'secondDoctorPassword').slice(0, 1024) } : null,
        },
        scopeOf(c),
      );
      if (result.kind === 'refused') return renderOrderForm(c, id, values, {}, result.findings, 422);
      flash(c, 'order_saved');
      return c.redirect(`/patients/${id}`, 303);
    } catch (e) {
      if (e instanceof Invalid) return renderOrderForm(c, id, values, e.fields, [], 422);
      if (e instanceof Conflict) return renderOrderForm(c, id, values, { _: e.messageKey }, [], 409);
      throw e;
    }
  });

async function renderOrderForm(c: Ctx, id: string, values: Record<string, string>, errors: FieldErrors, findings: Finding[], status: 200 | 409 | 422) {
  const { db } = c.var.deps;
  const p = await getPatientInScope(db, id, scopeOf(c));
  const { day } = await todayFor(c, p.homeClinicId);
  const rules = await rulesForClinic(db, p.homeClinicId, day);
  const orders = await ordersOfPatient(db, id);
  const current = inForce(orders, day);
  const defaults = { phase: current?.phase ?? 'induction', startDate: day, endDate: day, dailyMg: '' };
  return render(
    c,
    OrderFormPage({
      ctx: viewContext(c),
      d: {
        patient: { id, code: p.code, fullName: p.fullName },
        current: current ? { dailyMg: current.dailyMg, phase: current.phase, endDate: current.endDate } : null,
        concentration: rules.params.concentration_mg_per_ml,
        values: { ...defaults, ...values },
        errors,
        findings,
        takeHomeEnabled: rules.params.take_home_enabled === 1,
      },
    }),
    status,
  );
}
