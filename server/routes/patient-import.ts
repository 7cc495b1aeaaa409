// Importing a spreadsheet of patients: upload → preview (every problem with its
// row and column, or the patients to be registered) → confirm. The preview
// page carries the file's text and the clinic back in the confirm form, so the
// server keeps nothing in between; the confirm checks everything again and
// writes all rows in one transaction, or nothing.
import { Hono } from 'hono';
import { z } from 'zod';
import { ImportFormPage, ImportPreviewPage, type ClinicOption } from '../../views/pages/patient-import.tsx';
import type { Errors } from '../../views/components.tsx';
import { serviceDay } from '../clock.ts';
import { decodeCsv } from '../csv.ts';
import { listClinics } from '../services/clinics.ts';
import { commitImport, previewImport, type ImportPreview } from '../services/patient-import.ts';
import { actorOf, flash, render, scopeOf, services, viewContext, type AppEnv, type Ctx } from './support.ts';
import { NotFound } from '../errors.ts';

/**
 * Largest CSV file: the app takes at most 2 MB per request (MAX_BODY_BYTES in
 * app.ts), and the confirm form sends the text back with the form around it
 * (and a browser turns LF line ends into CRLF): keep room for both.
 */
export const MAX_CSV_BYTES = 2 * 1024 * 1024 - 64 * 1024;

const Uuid = z.uuid();

interface ClinicChoice extends ClinicOption {
  name: string;
  timeZone: string;
}

/** The active clinics of the user, the ones a file may be imported into. */
async function clinicChoices(c: Ctx): Promise<ClinicChoice[]> {
  const list = await listClinics(c.var.deps.db, scopeOf(c));
  return list.filter((cl) => cl.active).map((cl) => ({ value: cl.id, label: `${cl.name} (${cl.code})`, name: cl.name, timeZone: cl.timeZone }));
}

type Body = Record<string, string | File | (string | File)[]>;
const field = (body: Body, key: string): string | File | undefined => {
  const v = body[key];
  return Array.isArray(v) ? v[v.length - 1] : v;
};
const text = (body: Body, key: string): string => {
  const v = field(body, key);
  return typeof v === 'string' ? v : '';
};

function renderForm(c: Ctx, clinics: ClinicChoice[], clinicId: string, errors: Errors, status: 200 | 422) {
  return render(c, ImportFormPage({ ctx: viewContext(c), clinics, clinicId, errors }), status);
}

function renderPreview(c: Ctx, clinics: ClinicChoice[], clinic: ClinicChoice, csv: string, preview: ImportPreview) {
  const status = preview.problems.length ? 422 : 200;
  return render(c, ImportPreviewPage({ ctx: viewContext(c), clinics, clinicId: clinic.value, clinicName: clinic.label, csv, preview }), status);
}

export const patientImportRoutes = new Hono<AppEnv>()
  .get('/patients/import', async (c) => {
    const clinics = await clinicChoices(c);
    return renderForm(c, clinics, clinics[0]?.value ?? '', {}, 200);
  })
  .post('/patients/import', async (c) => {
    const body = (await c.req.parseBody({ all: true })) as Body;
    const clinics = await clinicChoices(c);
    const clinicId = text(body, 'clinicId');
    const confirm = text(body, 'confirm') === '1';
    const errors: Errors = {};

    if (!Uuid.safeParse(clinicId).success) errors.clinicId = 'err_choose';
    let csv: string | null = null;
    if (confirm) {
      csv = text(body, 'csv');
      if (csv.length > MAX_CSV_BYTES) errors.file = 'import_file_too_large';
    } else {
      const file = field(body, 'file');
      if (!(file instanceof File) || file.size === 0) errors.file = 'import_file_required';
      else if (file.size > MAX_CSV_BYTES) errors.file = 'import_file_too_large';
      else {
        csv = decodeCsv(new Uint8Array(await file.arrayBuffer()));
        if (csv === null) errors.file = 'import_not_utf8';
      }
    }
    if (Object.keys(errors).length || csv === null) return renderForm(c, clinics, clinicId, errors, 422);

    // Only one of the user's clinics; any other id answers as if it did not exist.
    const clinic = clinics.find((cl) => cl.value === clinicId);
    if (!clinic) throw new NotFound('clinic');
    const today = serviceDay(c.var.deps.clock.now(), clinic.timeZone);

    if (!confirm) return renderPreview(c, clinics, clinic, csv, await previewImport(c.var.deps.db, csv, clinic.value, scopeOf(c), today));

    const outcome = await commitImport(services(c), actorOf(c), csv, clinic.value, scopeOf(c), today);
    if (!outcome.ok) return renderPreview(c, clinics, clinic, csv, outcome.preview);
    flash(c, 'import_done', { n: outcome.count });
    return c.redirect('/patients', 303);
  });
