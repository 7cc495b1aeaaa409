// Messages of the counter: doses and their decisions.
import type { Shape } from './shape.ts';

export const vi = {
  err_already_dosed: 'Người bệnh đã được cấp liều cho hôm nay.',
  audit_action_dose_record: 'Ghi nhận cấp phát liều',
};

export const en: Shape<typeof vi> = {
  err_already_dosed: 'The patient has already been dosed today.',
  audit_action_dose_record: 'Dose recorded',
};
