// Places: the commune picker of the 2025 two-tier list, used by every form with an address.
import { Hono } from 'hono';
import { z } from 'zod';
import { CommuneOptions } from '../../views/components.tsx';
import { listCommunes } from '../services/clinics.ts';
import { viewContext, type AppEnv } from './support.ts';

export const placeRoutes = new Hono<AppEnv>().get('/places/communes', async (c) => {
  const province = z.coerce.number().int().positive().safeParse(c.req.query('provinceCode'));
  const q = (c.req.query('q') ?? '').slice(0, 100);
  const communes = province.success ? await listCommunes(c.var.deps.db, province.data, q) : [];
  const options = communes.map((cm) => ({ value: String(cm.code), label: cm.name }));
  // One match is chosen for the user.
  return c.html(String(CommuneOptions({ t: viewContext(c).t, communes: options, selected: options.length === 1 ? options[0]!.value : '' })));
});
