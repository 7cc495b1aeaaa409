import { Csrf, Field, FormErrors, describedBy, type Errors } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { Layout } from '../layout.tsx';

export function PasswordPage({ ctx, errors: e, mustChange }: { ctx: ViewContext; errors: Errors; mustChange: boolean }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.account_title}>
      <section class="card narrow">
        <h1>{t.account_title}</h1>
        {mustChange && (
          <p class="flash" role="status">
            {t.account_must_change}
          </p>
        )}
        <FormErrors errors={e} t={t} />
        <form method="post" action="/account/password" class="stack" novalidate>
          <Csrf token={ctx.csrfToken} />
          <Field id="current" label={t.account_current_password} error={e.current} t={t}>
            <input id="current" name="current" type="password" autocomplete="current-password" maxlength={1024} required {...describedBy('current', e.current)} />
          </Field>
          <Field id="next" label={t.account_new_password} error={e.next} t={t} hint={t.account_password_hint}>
            <input id="next" name="next" type="password" autocomplete="new-password" maxlength={128} required {...describedBy('next', e.next, true)} />
          </Field>
          <Field id="confirm" label={t.account_confirm_password} error={e.confirm} t={t}>
            <input id="confirm" name="confirm" type="password" autocomplete="new-password" maxlength={128} required {...describedBy('confirm', e.confirm)} />
          </Field>
          <button type="submit" class="primary">
            {t.save}
          </button>
        </form>
      </section>
    </Layout>
  );
}
