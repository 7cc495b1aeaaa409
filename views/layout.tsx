import type { Child } from 'hono/jsx';
import type { ViewContext } from './context.ts';

// htmx is configured so that it can run no code from the page (no eval, no
// script tags in swapped content), talks only to this server, keeps nothing
// in localStorage (patient data must not outlive the session on a shared
// computer), and injects no inline styles (the CSP allows none).
const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
  refreshOnHistoryMiss: true,
  includeIndicatorStyles: false,
  // Settling copies these attributes between the old and new element of an
  // outerHTML swap; 'style' (a default) would set an inline style the CSP refuses.
  attributesToSettle: ['class', 'width', 'height'],
  // New content is made live (its forms posted by htmx) in the settle step.
  // With a delay, an Enter in the first 20 ms on a freshly focused button
  // (a scanner's Enter, a quick nurse) would submit the form natively.
  defaultSettleDelay: 0,
  // 422 carries the form again with its messages: swap it like a success.
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '422', swap: true },
    { code: '[45]..', swap: true, error: true },
  ],
});

export function Layout(props: { ctx: ViewContext; title: string; children: Child; scripts?: string[] }) {
  const { ctx, title } = props;
  const { t } = ctx;
  return (
    <html lang={ctx.locale}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        {/* No favicon request (and no 404 in the console) until the project has an icon. */}
        <link rel="icon" href="data:," />
        <title>{`${title} · ${t.app_name}`}</title>
        <link rel="stylesheet" href={`/static/app.css?v=${ctx.staticVersion}`} />
        <script src={`/static/htmx.min.js?v=${ctx.staticVersion}`} defer></script>
        <script src={`/static/app.js?v=${ctx.staticVersion}`} defer></script>
        {(props.scripts ?? []).map((name) => (
          <script src={`/static/${name}?v=${ctx.staticVersion}`} defer></script>
        ))}
      </head>
      <body hx-headers={JSON.stringify({ 'X-CSRF-Token': ctx.csrfToken })}>
        <a class="skip" href="#main">
          {t.skip_to_content}
        </a>
        <header class="topbar">
          <a class="brand" href={ctx.user ? '/' : '/login'}>
            {t.app_name}
          </a>
          {ctx.user && (
            <nav aria-label={t.nav_label}>
              <ul>
                {ctx.nav.map((item) => (
                  <li>
                    <a href={item.href} aria-current={isCurrent(ctx.path, item.href) ? 'page' : undefined}>
                      {t[item.label]}
                      {item.href === '/alerts' && <span class="badge-slot" hx-get="/alerts/badge" hx-trigger="load, every 60s" hx-swap="innerHTML"></span>}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          <div class="topbar-tools">
            <LanguageSwitch ctx={ctx} />
            {ctx.user && (
              <form method="post" action="/logout" class="inline">
                <input type="hidden" name="_csrf" value={ctx.csrfToken} />
                <span class="who">{t.signed_in_as({ name: ctx.user.fullName, role: t[`role_${ctx.user.role}`] })}</span>
                <button type="submit" class="link">
                  {t.logout}
                </button>
              </form>
            )}
          </div>
        </header>
        <main id="main" tabindex={-1}>
          {ctx.flash && (
            <p class="flash" role="status">
              {ctx.flash}
            </p>
          )}
          {props.children}
        </main>
      </body>
    </html>
  );
}

function isCurrent(path: string, href: string): boolean {
  return href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
}

function LanguageSwitch({ ctx }: { ctx: ViewContext }) {
  const { t } = ctx;
  return (
    <form method="post" action="/lang" class="inline lang" aria-label={t.lang_switch_label}>
      <input type="hidden" name="_csrf" value={ctx.csrfToken} />
      <input type="hidden" name="back" value={ctx.path} />
      {(['vi', 'en'] as const).map((l) => (
        <button type="submit" name="lang" value={l} class="link" aria-pressed={ctx.locale === l ? 'true' : 'false'} lang={l}>
          {l === 'vi' ? t.lang_vi : t.lang_en}
        </button>
      ))}
    </form>
  );
}
