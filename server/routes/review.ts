// The doctor's review list (R10 withholdings, R11 missed days) and the ruling
// on today's dose.
import { Hono } from 'hono';
import { z } from 'zod';
import { ReviewPage, type ReviewPageData } from '../../views/pages/review.tsx';
import { NotFound } from '../errors.ts';
import { chooseClinic, clinicDay } from '../services/counter.ts';
import { recordReview, reviewList } from '../services/dose-reviews.ts';
import { actorOf, fieldErrors, flash, formBody, render, scopeOf, services, str, viewContext, type AppEnv, type Ctx } from './support.ts';

const ReviewForm = z
  .object({
    clinic: z.uuid(),
    patient: z.uuid(),
    kind: z.enum(['resume', 'reduced', 'no_dose'], { message: 'err_invalid' }),
    maxMg: z
      .string()
      .trim()
      .max(8)
      .transform((s) => s.replace(',', '.')),
    note: z.string().trim().min(1, 'err_review_note').max(1000),
  })
  .superRefine((v, ctx) => {
    if (v.kind === 'reduced' && !/^\d{1,3}(\.\d)?$/.test(v.maxMg)) ctx.addIssue({ code: 'custom', path: ['maxMg'], message: 'err_mg' });
    if (v.kind === 'reduced' && Number(v.maxMg) <= 0) ctx.addIssue({ code: 'custom', path: ['maxMg'], message: 'err_mg' });
  });

async function pageData(c: Ctx, clinicId: string | undefined): Promise<ReviewPageData> {
  const { db, clock } = c.var.deps;
  const clinic = await chooseClinic(db, scopeOf(c), clinicId);
  const now = clock.now();
  const { timeZone } = await clinicDay(db, clinic.id, now);
  const rows = await reviewList(db, now, clinic.id);
  return {
    clinic: { id: clinic.id, name: clinic.name, timeZone },
    others: clinic.others,
    rows: rows.map((r) => ({
      patientId: r.patientId,
      code: r.code,
      fullName: r.fullName,
      decisionKind: r.decision.kind,
      reasons: r.decision.reasons,
      withheld: r.withheld && { ...r.withheld, intoxication: r.withheld.intoxication as 'suspected' | null },
      reviews: r.reviews.map((v) => ({ ...v, kind: v.kind as 'resume' })),
    })),
  };
}

export const reviewRoutes = new Hono<AppEnv>()
  .get('/review', async (c) => render(c, ReviewPage({ ctx: viewContext(c), d: await pageData(c, c.req.query('clinic')) })))
  .post('/review', async (c) => {
    const body = await formBody(c);
    const raw = { clinic: str(body, 'clinic'), patient: str(body, 'patient'), kind: str(body, 'kind'), maxMg: str(body, 'maxMg'), note: str(body, 'note') };
    const parsed = ReviewForm.safeParse(raw);
    const clinicId = z.uuid().safeParse(raw.clinic).success ? raw.clinic : undefined;
    if (!parsed.success) {
      const d = await pageData(c, clinicId);
      return render(c, ReviewPage({ ctx: viewContext(c), d: { ...d, failed: { patientId: raw.patient, kind: raw.kind, maxMg: raw.maxMg, note: raw.note, errors: fieldErrors(parsed.error) } } }), 422);
    }
    const f = parsed.data;
    // Only a patient on this clinic's review list today may be ruled on here.
    const d = await pageData(c, f.clinic);
    const row = d.rows.find((r) => r.patientId === f.patient);
    if (!row) throw new NotFound('patient');
    // R10 before R11: a withholding for intoxication is lifted by 'resume' (or closed by 'no dose'), not by a reduced-dose approval.
    if (f.kind === 'reduced' && row.reasons.some((r) => r.code === 'withheld_intoxication')) {
      return render(c, ReviewPage({ ctx: viewContext(c), d: { ...d, failed: { patientId: raw.patient, kind: raw.kind, maxMg: raw.maxMg, note: raw.note, errors: { _: 'err_review_withheld_first' } } } }), 422);
    }
    await recordReview(services(c), actorOf(c), { patientId: f.patient, clinicId: f.clinic, kind: f.kind, maxMg: f.kind === 'reduced' ? Number(f.maxMg) : null, note: f.note }, scopeOf(c));
    flash(c, 'review_saved');
    return c.redirect(`/review?clinic=${f.clinic}`, 303);
  });
