// The treatment card (thẻ điều trị): credit-card size (ISO/IEC 7810 ID-1,
// 85.6 × 54 mm), with the photo, the name, the code in large type and as a
// Code 128 barcode that the counter's USB scanner types back into search.
// Printing is a button handled by app.js (data-print): no inline script.
import { raw } from 'hono/html';
import { code128Svg } from '../barcode.ts';
import type { ViewContext } from '../context.ts';
import { formatDay } from '../format.ts';
import { Layout } from '../layout.tsx';

export interface CardData {
  id: string;
  code: string;
  fullName: string;
  /** YYYY-MM-DD */
  birthDate: string;
  clinicName: string;
  hasPhoto: boolean;
}

export function CardPage({ ctx, card }: { ctx: ViewContext; card: CardData }) {
  const { t } = ctx;
  return (
    <Layout ctx={ctx} title={`${t.card_title} · ${card.code}`}>
      <h1 class="no-print">{t.card_title}</h1>
      <div class="tcard-wrap">
        <article class="tcard" aria-label={t.card_title}>
          <header class="tcard-head">
            <span class="tcard-title">{t.card_title}</span>
            <span class="tcard-clinic">{card.clinicName}</span>
          </header>
          <div class="tcard-body">
            {card.hasPhoto ? (
              <img class="tcard-photo" src={`/patients/${card.id}/photo`} alt={t.patient_photo_alt({ name: card.fullName })} />
            ) : (
              <div class="tcard-photo tcard-photo-none">{t.patient_photo_none}</div>
            )}
            <div class="tcard-id">
              <p class="tcard-name">{card.fullName}</p>
              <p class="tcard-code">
                <span class="visually-hidden">{t.patient_code}: </span>
                {card.code}
              </p>
              <p class="tcard-born">
                {t.card_born}: {formatDay(card.birthDate)}
              </p>
            </div>
          </div>
          <div class="tcard-barcode">{raw(code128Svg(card.code, { module: 2, height: 40 }))}</div>
        </article>
      </div>
      <p class="hint no-print">{t.card_print_hint}</p>
      <p class="actions no-print">
        <button type="button" class="primary" data-print="">
          {t.card_print}
        </button>
        <a href={`/patients/${card.id}`}>{t.card_back}</a>
      </p>
    </Layout>
  );
}
