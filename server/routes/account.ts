// A user's own account: changing the password.
import { Hono } from 'hono';
import { PasswordPage } from '../../views/pages/account.tsx';
import { Invalid } from '../errors.ts';
import { changeOwnPassword } from '../services/accounts.ts';
import { actorOf, flash, formBody, render, services, str, viewContext, type AppEnv } from './support.ts';

export const accountRoutes = new Hono<AppEnv>()
  .get('/account/password', (c) => render(c, PasswordPage({ ctx: viewContext(c), errors: {}, mustChange: c.var.session!.user.mustChangePassword })))
  .post('/account/password', async (c) => {
    const body = await formBody(c);
    const session = c.var.session!;
    try {
      await changeOwnPassword(services(c), actorOf(c), {
        current: str(body, 'current').slice(0, 1024),
        next: str(body, 'next').slice(0, 1024),
        confirm: str(body, 'confirm').slice(0, 1024),
        keepSessionIdHash: session.idHash,
      });
    } catch (e) {
      if (e instanceof Invalid) return render(c, PasswordPage({ ctx: viewContext(c), errors: e.fields, mustChange: session.user.mustChangePassword }), 422);
      throw e;
    }
    flash(c, 'account_password_changed');
    return c.redirect('/', 303);
  });
