// Check-in at reception or on a self check-in tablet: one scan field; the
// answer shows only the code and the place in the queue (a tablet's screen
// is seen by everyone in the waiting room).
import type { ViewContext } from '../context.ts';
import { Layout } from '../layout.tsx';
import { ClinicSwitch, type Notice } from './counter.tsx';

export function CheckInPage({ ctx, clinic, others, notice }: { ctx: ViewContext; clinic: { id: string; name: string }; others: { id: string; code: string }[]; notice: Notice | null }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.checkin_title}>
      <div class="page-head">
        <h1>
          {t.checkin_title} — {clinic.name}
        </h1>
        <ClinicSwitch ctx={ctx} others={others} href={(id) => `/checkin?clinic=${id}`} />
      </div>
      <section id="checkin" aria-live="polite">
        <form method="post" action="/checkin" class="scan" hx-post="/checkin" hx-target="body" hx-swap="outerHTML" hx-select="body" hx-disabled-elt="find button">
          <input type="hidden" name="_csrf" value={ctx.csrfToken} />
          <input type="hidden" name="clinic" value={clinic.id} />
          <label for="code">{t.checkin_scan_label}</label>
          <div class="actions">
            <input id="code" name="code" type="search" maxlength={100} autocomplete="off" spellcheck={false} autofocus />
            <button type="submit">{t.checkin_button}</button>
          </div>
        </form>
        {notice && (
          <p class={`notice big ${notice.tone}`} role={notice.tone === 'error' ? 'alert' : 'status'}>
            {notice.text}
          </p>
        )}
      </section>
    </Layout>
  );
}
