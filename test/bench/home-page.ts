// GET /home of a logged-in nurse: the session lookup, the clinics in scope and
// the whole page, through the real app and its middleware.
import { eq } from 'drizzle-orm';
import { users } from '../../db/schema.ts';
import { createApp } from '../../server/app.ts';
import { createSession } from '../../server/auth/sessions.ts';
import { systemClock } from '../../server/clock.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/log.ts';
import { measureHttp } from './load.ts';
import type { Measure } from './measure.ts';

export const homePage: Measure = {
  name: 'home-page',
  ratioTo: 'bare-page',
  async run(ctx) {
    const { db } = await ctx.database();
    const [nurse] = await db.select({ id: users.id }).from(users).where(eq(users.username, 'nurse'));
    if (!nurse) throw new Error('the demo nurse is missing from the bench database');
    const { token } = await createSession(db, nurse.id, new Date(), { idleMinutes: 30, absoluteMinutes: 720 });
    const app = createApp({
      db,
      clock: systemClock,
      config: loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', SEED_DEMO: 'false' }),
      logger: createLogger('silent'),
    });
    return [
      await measureHttp('home-page', ctx, {
        fetch: app.fetch,
        path: '/home',
        headers: { cookie: `mp_session=${token}` },
        expectBody: 'data-role-home="nurse"',
      }),
    ];
  },
};
