// The printable treatment card of a patient: photo, name, code and its barcode.
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { patientPhotos } from '../../db/schema.ts';
import { CardPage } from '../../views/pages/card.tsx';
import { NotFound } from '../errors.ts';
import { getClinic } from '../services/clinics.ts';
import { getPatientInScope } from '../services/patients.ts';
import { render, scopeOf, viewContext, type AppEnv } from './support.ts';

const Uuid = z.uuid();

export const patientCardRoutes = new Hono<AppEnv>().get('/patients/:patientId/card', async (c) => {
  const { db } = c.var.deps;
  const id = Uuid.safeParse(c.req.param('patientId'));
  if (!id.success) throw new NotFound('patient');
  // Another clinic's patient is a 404, as if it did not exist.
  const patient = await getPatientInScope(db, id.data, scopeOf(c));
  const clinic = await getClinic(db, patient.homeClinicId);
  // Whether there is a photo, without reading its bytes (the <img> fetches it).
  const [photo] = await db.select({ id: patientPhotos.id }).from(patientPhotos).where(eq(patientPhotos.patientId, patient.id)).limit(1);
  return render(
    c,
    CardPage({
      ctx: viewContext(c),
      card: { id: patient.id, code: patient.code, fullName: patient.fullName, birthDate: patient.birthDate, clinicName: clinic.name, hasPhoto: !!photo },
    }),
  );
});
