import { Csrf } from '../components.tsx';
import type { ViewContext } from '../context.ts';
import { Layout } from '../layout.tsx';

export function LoginPage(props: { ctx: ViewContext; username?: string; error?: string | null; notice?: string | null }) {
  const { ctx } = props;
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.login_title}>
      <section class="card narrow">
        <h1>{t.login_title}</h1>
        <p class="muted">{t.app_tagline}</p>
        {props.notice && (
          <p class="flash" role="status">
            {props.notice}
          </p>
        )}
        {props.error && (
          <p class="form-errors" role="alert" id="login-error">
            {props.error}
          </p>
        )}
        <form method="post" action="/login" class="stack">
          <Csrf token={ctx.csrfToken} />
          <div class="field">
            <label for="username">{t.login_username}</label>
            <input id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck={false} required maxlength={64} value={props.username ?? ''} autofocus={!props.username} />
          </div>
          <div class="field">
            <label for="password">{t.login_password}</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required maxlength={1024} autofocus={!!props.username} />
          </div>
          <button type="submit" class="primary">
            {t.login_submit}
          </button>
        </form>
      </section>
    </Layout>
  );
}
