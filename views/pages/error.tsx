import type { ViewContext } from '../context.ts';
import { Layout } from '../layout.tsx';

export function ErrorPage({ ctx, message }: { ctx: ViewContext; message: string }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={t.error_title}>
      <section class="card narrow">
        <h1>{t.error_title}</h1>
        <p role="alert">{message}</p>
        <p>
          <a href="/">{t.error_back_home}</a>
        </p>
      </section>
    </Layout>
  );
}
