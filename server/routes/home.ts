// Each role's home page, a clinic's page, and the audit log.
import { Hono } from 'hono';
import { z } from 'zod';
import { AuditPage } from '../../views/pages/audit.tsx';
import { ClinicPage } from '../../views/pages/clinics.tsx';
import { HomePage, type HomeData } from '../../views/pages/home.tsx';
import { messages } from '../../views/i18n/index.ts';
import { can, ROLE_HOME } from '../auth/permissions.ts';
import { serviceDay } from '../clock.ts';
import { formatDay } from '../../views/format.ts';
import { NotFound } from '../errors.ts';
import { verifyAuditChain } from '../services/audit.ts';
import { getClinicInScope, listClinics } from '../services/clinics.ts';
import { activeCounts, auditPage, staffAt, staffCounts } from '../services/overview.ts';
import { render, scopeOf, viewContext, type AppEnv } from './support.ts';

const Uuid = z.uuid();
const PageQuery = z.coerce.number().int().min(1).max(100_000).catch(1);

export const homeRoutes = new Hono<AppEnv>()
  .get('/', (c) => c.redirect(ROLE_HOME[c.var.session!.user.role], 303))
  .get('/home', async (c) => {
    const { db, clock, config } = c.var.deps;
    const user = c.var.session!.user;
    const now = clock.now();
    const own = await listClinics(db, user.clinicIds);
    const staff = user.role === 'manager' ? await staffCounts(db, own.map((cl) => cl.id)) : null;
    const data: HomeData = {
      role: user.role,
      now,
      clinics: own.map((cl) => ({
        id: cl.id,
        code: cl.code,
        name: cl.name,
        kind: cl.kind,
        timeZone: cl.timeZone,
        serviceDay: serviceDay(now, cl.timeZone),
        ...(staff ? { staffCount: staff.get(cl.id) ?? 0 } : {}),
      })),
    };
    if (user.role === 'admin') data.counts = await activeCounts(db);
    data.links = { counter: can(user.role, 'counter.dose'), checkin: can(user.role, 'counter.checkin'), register: can(user.role, 'register.view'), review: can(user.role, 'dose.review'), followup: can(user.role, 'followup.view'), dropouts: can(user.role, 'dropout.rule') };
    if (can(user.role, 'audit.view')) {
      const { rows } = await auditPage(db, scopeOf(c), 1, 10);
      data.recentAudit = rows.map((r) => ({ ...r, timeZone: r.timeZone ?? config.DEFAULT_TIME_ZONE }));
    }
    return render(c, HomePage({ ctx: viewContext(c), data }));
  })
  .get('/clinics/:clinicId', async (c) => {
    const { db, clock } = c.var.deps;
    const id = Uuid.safeParse(c.req.param('clinicId'));
    if (!id.success) throw new NotFound('clinic');
    const scope = scopeOf(c);
    const clinic = await getClinicInScope(db, id.data, scope);
    const visible = await listClinics(db, scope);
    const role = c.var.session!.user.role;
    const staff = role === 'manager' || role === 'admin' ? (await staffAt(db, clinic.id)).map((s) => ({ fullName: s.fullName, role: messages(c.var.locale)[`role_${s.role}`] })) : null;
    return render(
      c,
      ClinicPage({
        ctx: viewContext(c),
        clinic,
        parentName: clinic.parentId ? (visible.find((v) => v.id === clinic.parentId)?.name ?? null) : null,
        satellites: visible.filter((v) => v.parentId === clinic.id),
        staff,
        serviceDay: formatDay(serviceDay(clock.now(), clinic.timeZone)),
        canEdit: can(role, 'clinic.manage'),
      }),
    );
  })
  .get('/audit', async (c) => {
    const { db, config } = c.var.deps;
    const page = PageQuery.parse(c.req.query('page'));
    const scope = scopeOf(c);
    const { rows, hasNext } = await auditPage(db, scope, page, 50);
    // The whole chain is verified for the admin; a manager sees only part of it.
    const chain = scope === null ? await verifyAuditChain(db) : null;
    return render(c, AuditPage({ ctx: viewContext(c), rows: rows.map((r) => ({ ...r, timeZone: r.timeZone ?? config.DEFAULT_TIME_ZONE })), chain, page, hasNext }));
  });
