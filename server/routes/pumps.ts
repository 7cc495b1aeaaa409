// The pump pages: state of each pump of one's clinics, priming, the
// calibration check, confirming a device, and the admin's configuration.
// HTTP only: the device work is the runtime's, the records the services'.
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { PumpFacts, PumpListPage, PumpLog, PumpPage, PumpTools, toolsState, type PumpPageView, type PumpView } from '../../views/pages/pumps.tsx';
import type { TextKey } from '../../views/i18n/index.ts';
import { formatNumber } from '../../views/format.ts';
import { DISPENSE_ML } from '../../devices/mpp/protocol.ts';
import { PumpError } from '../../devices/pump.ts';
import { can } from '../auth/permissions.ts';
import { Conflict, Invalid, NotFound } from '../errors.ts';
import { listClinics } from '../services/clinics.ts';
import { calibrationFactor, confirmPump, getPump, listPumps, pumpLog, recordCalibration, recordCalibrationTest, recordPrime, savePump, type PumpRow } from '../services/pumps.ts';
import { actorOf, flash, formBody, render, scopeOf, services, str, viewContext, type AppEnv, type Ctx } from './support.ts';

const Uuid = z.uuid();
/** A volume as typed ("10", "10,5", "10.5"), within what a pump accepts. */
const Volume = z
  .string()
  .trim()
  .max(8)
  .transform((s) => s.replace(',', '.'))
  .pipe(z.string().regex(/^\d{1,3}(\.\d{1,2})?$/))
  .transform(Number)
  .pipe(z.number().min(DISPENSE_ML.min).max(DISPENSE_ML.max));

const PumpForm = z.object({
  clinicId: Uuid,
  name: z.string().trim().min(1, 'pump_err_name').max(60, 'pump_err_name'),
  path: z.string().trim().min(1, 'pump_err_path').max(200, 'pump_err_path').regex(/^\S+$/, 'pump_err_path'),
  baudRate: z.coerce.number().refine((b) => [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200].includes(b), 'err_invalid'),
  expectedSerial: z.string().trim().max(64, 'err_too_long').transform((s) => (s === '' ? null : s)),
  active: z.string().optional().transform((v) => v === 'true'),
});

/** A pump as the page shows it: the record with what its station knows now. */
function viewOf(c: Ctx, p: PumpRow & { clinicName: string }, tz: Map<string, string>, lastCal: Date | null): PumpView {
  const s = c.var.deps.pumps?.station(p.id);
  const now = c.var.deps.clock.now();
  return {
    id: p.id,
    clinicId: p.clinicId,
    clinicName: p.clinicName,
    name: p.name,
    path: p.path,
    baudRate: p.baudRate,
    active: p.active,
    expectedSerial: p.expectedSerial,
    seenSerial: s?.identity?.serial ?? null,
    model: s?.identity?.model ?? null,
    readiness: s ? s.readiness(now) : null,
    reservoirMl: s?.online ? (s.status?.reservoirMl ?? null) : null,
    calFactor: s?.online ? (s.status?.calFactor ?? null) : null,
    lastCalibrationAt: s?.config.lastCalibrationAt ?? lastCal,
    timeZone: tz.get(p.clinicId) ?? 'Asia/Ho_Chi_Minh',
  };
}

async function zones(c: Ctx): Promise<{ tz: Map<string, string>; clinics: { id: string; name: string }[] }> {
  const list = await listClinics(c.var.deps.db, scopeOf(c));
  return { tz: new Map(list.map((x) => [x.id, x.timeZone])), clinics: list.filter((x) => x.active).map((x) => ({ id: x.id, name: x.name })) };
}

/** The pump of the URL as its page shows it; `tick`: ask the device first (a page load), not on the page's own refresh. */
async function pumpView(c: Ctx, id: string, tick: boolean): Promise<Pick<PumpPageView, 'pump' | 'log' | 'clinics'>> {
  const scope = scopeOf(c);
  const parsed = Uuid.safeParse(id);
  if (!parsed.success) throw new NotFound('pump');
  const row = await getPump(c.var.deps.db, parsed.data, scope);
  // The page shows the pump as it is now, not as the last heartbeat found it (a calibration or a test volume just changed it).
  if (tick) await c.var.deps.pumps?.station(row.id)?.tick();
  const { tz, clinics } = await zones(c);
  const [withName] = (await listPumps(c.var.deps.db, scope)).filter((p) => p.id === row.id);
  const log = await pumpLog(c.var.deps.db, row.id);
  const lastCal = log.find((e) => e.kind === 'calibration' && e.details.step === 'set')?.at ?? null;
  return { pump: viewOf(c, withName!, tz, lastCal), log, clinics };
}

async function page(c: Ctx, id: string, extra: Partial<Pick<PumpPageView, 'notice' | 'errors' | 'calibrationTest'>> = {}, status: 200 | 409 | 422 | 503 = 200): Promise<Response> {
  const role = c.var.session!.user.role;
  const v: PumpPageView = {
    ...(await pumpView(c, id, true)),
    canOperate: can(role, 'pump.operate'),
    canConfirm: can(role, 'pump.confirm'),
    canConfigure: can(role, 'pump.configure'),
    notice: extra.notice ?? null,
    calibrationTest: extra.calibrationTest ?? null,
    errors: extra.errors ?? {},
  };
  return render(c, PumpPage({ ctx: viewContext(c), v }), status);
}

/** The pump of the URL, in the user's clinics, with its live station (required for device work). */
async function live(c: Ctx) {
  const id = Uuid.safeParse(c.req.param('id'));
  if (!id.success) throw new NotFound('pump');
  const row = await getPump(c.var.deps.db, id.data, scopeOf(c));
  const station = c.var.deps.pumps?.station(row.id);
  return { row, station: station?.online ? station : null };
}

function pumpFailure(c: Ctx, e: unknown): string {
  const t = viewContext(c).t;
  if (e instanceof PumpError) return t.pump_err_failed({ reason: t[`pump_reason_${e.code === 'busy' ? 'busy' : e.code === 'range' ? 'range' : e.code === 'syntax' ? 'syntax' : 'refused'}`] });
  throw e;
}

async function listPage(c: Ctx, errors: Record<string, TextKey> = {}, values: Record<string, string> = {}, status: 200 | 422 = 200): Promise<Response> {
  const scope = scopeOf(c);
  const { tz, clinics } = await zones(c);
  const rows = await listPumps(c.var.deps.db, scope);
  const pumps = rows.map((p) => viewOf(c, p, tz, null));
  return render(c, PumpListPage({ ctx: viewContext(c), pumps, canConfigure: can(c.var.session!.user.role, 'pump.configure'), clinics, errors, values }), status);
}

async function save(c: Ctx, id: string | null): Promise<Response> {
  const body = await formBody(c);
  const values = Object.fromEntries(['clinicId', 'name', 'path', 'baudRate', 'expectedSerial', 'active'].map((k) => [k, str(body, k)]));
  const parsed = PumpForm.safeParse(values);
  const fail = async (errors: Record<string, TextKey>) => (id ? page(c, id, { notice: { tone: 'error', text: viewContext(c).t[Object.values(errors)[0]!] } }, 422) : listPage(c, errors, values, 422));
  if (!parsed.success) return fail(Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), (i.message.startsWith('pump_') || i.message.startsWith('err_') ? i.message : 'err_invalid') as TextKey])));
  if (id) await getPump(c.var.deps.db, id, scopeOf(c));
  try {
    const row = await savePump(services(c), actorOf(c), id, parsed.data);
    await c.var.deps.pumps?.load();
    flash(c, 'pump_saved', { name: row.name });
    return c.redirect(`/pumps/${row.id}`, 303);
  } catch (e) {
    if (e instanceof Invalid) return fail(e.fields);
    throw e;
  }
}

export const pumpRoutes = new Hono<AppEnv>()
  .get('/pumps', (c) => listPage(c))
  .post('/pumps', (c) => save(c, null))
  .get('/pumps/:id', (c) => page(c, c.req.param('id')))
  .get('/pumps/:id/state', async (c) => {
    const { pump, log } = await pumpView(c, c.req.param('id'), false);
    const ctx = viewContext(c);
    // What the page's calibration and priming part shows; redrawn only when the pump went offline or came back since.
    const shown = c.req.query('tools');
    const tools = can(c.var.session!.user.role, 'pump.operate') ? toolsState(pump) : null;
    const redraw = tools !== null && (shown === 'on' || shown === 'off') && shown !== tools;
    return c.html(
      String(PumpFacts({ ctx, p: pump, tools })) +
        String(PumpLog({ ctx, p: pump, log, oob: true })) +
        (redraw ? String(PumpTools({ ctx, p: pump, calibrationTest: null, errors: {}, oob: true })) : ''),
    );
  })
  .post('/pumps/:id', async (c) => {
    const id = Uuid.safeParse(c.req.param('id'));
    if (!id.success) throw new NotFound('pump');
    return save(c, id.data);
  })
  .post('/pumps/:id/confirm', async (c) => {
    const body = await formBody(c);
    const { row, station } = await live(c);
    const t = viewContext(c).t;
    const serial = str(body, 'serial');
    // Only the serial the pump answers with now may be confirmed: never a typed one.
    if (!station?.identity || station.identity.serial !== serial) return page(c, row.id, { notice: { tone: 'error', text: t.pump_err_offline } }, 409);
    await confirmPump(services(c), actorOf(c), row.id, serial, scopeOf(c));
    await c.var.deps.pumps!.load();
    return page(c, row.id, { notice: { tone: 'ok', text: t.pump_confirmed({ serial }) } });
  })
  .post('/pumps/:id/prime', async (c) => {
    const body = await formBody(c);
    const { row, station } = await live(c);
    const t = viewContext(c).t;
    const ml = Volume.safeParse(str(body, 'ml'));
    if (!ml.success) return page(c, row.id, { errors: { prime: 'pump_err_volume' } }, 422);
    if (!station) return page(c, row.id, { notice: { tone: 'error', text: t.pump_err_offline } }, 503);
    try {
      const primed = await station.driver.prime(ml.data);
      await recordPrime(services(c), actorOf(c), row, primed);
      return page(c, row.id, { notice: { tone: 'ok', text: t.pump_primed({ ml: formatNumber(primed, c.var.locale, 1) }) } });
    } catch (e) {
      return page(c, row.id, { notice: { tone: 'error', text: pumpFailure(c, e) } }, 503);
    }
  })
  .post('/pumps/:id/calibration/test', async (c) => {
    const body = await formBody(c);
    const { row, station } = await live(c);
    const t = viewContext(c).t;
    const ml = Volume.safeParse(str(body, 'ml'));
    if (!ml.success) return page(c, row.id, { errors: { test: 'pump_err_volume' } }, 422);
    if (!station) return page(c, row.id, { notice: { tone: 'error', text: t.pump_err_offline } }, 503);
    const factor = (await station.driver.status().catch(() => null))?.calFactor ?? station.status?.calFactor ?? 1;
    // The pump's own transaction id is the one recorded, so the check can be matched with what the pump remembers.
    const txn = `CAL-${randomUUID().slice(0, 8)}`;
    const outcome = await c.var.deps.pumps!.testDispense(row.id, ml.data, txn);
    if (outcome.kind !== 'done') {
      const reason = outcome.kind === 'not_started' ? t[`pump_reason_${outcome.reason}`] : outcome.kind === 'fault' ? outcome.code : t.pump_event_unknown({ ml: formatNumber(outcome.ml, c.var.locale, 1) });
      return page(c, row.id, { notice: { tone: 'error', text: t.pump_err_failed({ reason }) } }, 503);
    }
    await recordCalibrationTest(services(c), actorOf(c), row, { txn, askedMl: ml.data, reportedMl: outcome.ml, factor });
    return page(c, row.id, { calibrationTest: { reportedMl: outcome.ml } });
  })
  .post('/pumps/:id/calibration', async (c) => {
    const body = await formBody(c);
    const { row, station } = await live(c);
    const t = viewContext(c).t;
    const measured = Volume.safeParse(str(body, 'measured'));
    if (!measured.success) return page(c, row.id, { errors: { measured: 'pump_err_volume' }, calibrationTest: { reportedMl: 0 } }, 422);
    if (!station) return page(c, row.id, { notice: { tone: 'error', text: t.pump_err_offline } }, 503);
    try {
      const f = await calibrationFactor(c.var.deps.db, row, measured.data, c.var.deps.clock.now());
      await station.driver.calibrate(f.factor);
      await recordCalibration(services(c), actorOf(c), row, { old: f.old, factor: f.factor, measuredMl: measured.data, reportedMl: f.test.reportedMl, txn: f.test.txn });
      await c.var.deps.pumps!.load();
      return page(c, row.id, { notice: { tone: 'ok', text: t.pump_cal_done({ old: formatNumber(f.old, c.var.locale, 3), factor: formatNumber(f.factor, c.var.locale, 3) }) } });
    } catch (e) {
      if (e instanceof Invalid) return page(c, row.id, { errors: { measured: Object.values(e.fields)[0]! } }, 422);
      if (e instanceof Conflict) return page(c, row.id, { notice: { tone: 'error', text: t[e.messageKey] } }, 409);
      return page(c, row.id, { notice: { tone: 'error', text: pumpFailure(c, e) } }, 503);
    }
  });
