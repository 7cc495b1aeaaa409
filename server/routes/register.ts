// The daily register (page, print and CSV) and voiding a mistaken record.
import { Hono } from 'hono';
import { z } from 'zod';
import { RegisterPage, type RegisterView } from '../../views/pages/register.tsx';
import { messages } from '../../views/i18n/index.ts';
import { can } from '../auth/permissions.ts';
import { toCsv } from '../csv.ts';
import { Conflict, NotFound } from '../errors.ts';
import { chooseClinic } from '../services/counter.ts';
import { voidDose } from '../services/dose-reviews.ts';
import { dayRegister } from '../services/register.ts';
import { actorOf, flash, formBody, render, scopeOf, services, str, viewContext, type AppEnv, type Ctx } from './support.ts';

const Day = z.iso.date();

async function registerOf(c: Ctx): Promise<RegisterView> {
  const { db, clock } = c.var.deps;
  const clinic = await chooseClinic(db, scopeOf(c), c.req.query('clinic'));
  const dayParam = Day.safeParse(c.req.query('day'));
  const reg = await dayRegister(db, clock.now(), clinic.id, dayParam.success ? dayParam.data : null, scopeOf(c));
  return {
    clinic: reg.clinic,
    others: clinic.others,
    day: reg.day,
    rows: reg.rows,
    totals: reg.totals,
    notSeen: reg.notSeen,
    canVoid: can(c.var.session!.user.role, 'dose.void'),
  };
}

export const registerRoutes = new Hono<AppEnv>()
  .get('/register', async (c) => render(c, RegisterPage({ ctx: viewContext(c), r: await registerOf(c) })))
  .get('/register.csv', async (c) => {
    const r = await registerOf(c);
    const t = messages(c.var.locale);
    const time = (at: Date) => new Intl.DateTimeFormat('en-GB', { timeZone: r.clinic.timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(at);
    const rows = [
      [t.register_day, t.register_time, t.patient_code, t.patient_full_name, t.register_part, t.register_outcome, t.register_prescribed, t.register_given, t.register_ml, t.register_check, t.register_method, t.register_staff, t.void_reason],
      ...r.rows.map((row) => [
        r.day,
        time(row.at),
        row.code,
        row.fullName,
        row.part,
        row.voidsId ? t.void_button : t[`dose_outcome_${row.outcome}`],
        row.prescribedMg,
        row.givenMg,
        row.ml,
        row.intoxication ? t[`intoxication_${row.intoxication}`] : '',
        t[`method_${row.method}`],
        row.byName,
        row.voidsId ? (row.voidReason ?? '') : row.voidedBy ? t.void_done : '',
      ]),
    ];
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', `attachment; filename="register-${r.clinic.code}-${r.day}.csv"`);
    return c.body(toCsv(rows));
  })
  .post('/doses/:doseId/void', async (c) => {
    const id = z.uuid().safeParse(c.req.param('doseId'));
    if (!id.success) throw new NotFound('dose');
    const body = await formBody(c);
    const reason = str(body, 'reason').trim().slice(0, 500);
    if (reason.length < 5) {
      flash(c, 'err_void_reason');
      return c.redirect(c.req.header('referer')?.startsWith(new URL(c.req.url).origin) ? c.req.header('referer')! : '/register', 303);
    }
    try {
      const v = await voidDose(services(c), actorOf(c), id.data, reason, scopeOf(c));
      flash(c, 'void_done');
      return c.redirect(`/register?clinic=${v.clinicId}&day=${v.serviceDay}`, 303);
    } catch (e) {
      if (!(e instanceof Conflict)) throw e;
      flash(c, e.messageKey);
      return c.redirect('/register', 303);
    }
  });
