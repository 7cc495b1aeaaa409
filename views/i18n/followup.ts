// Messages of missed-dose follow-up: alert levels, the messages that leave the
// building (e-mail, webhook), the counsellor's list and contacts, the day
// close and the delivery log.
import type { Shape } from './shape.ts';

/** What an alert message carries: who, since when, phone, clinic — nothing more sensitive. */
type Alert = { name: string; code: string; missed: number; since: string; phone: string; clinic: string };

export const vi = {
  alert_level_missed: 'Bỏ liều',
  alert_level_counsellor: 'Cần tư vấn viên liên hệ',
  alert_level_doctor: 'Cần tư vấn viên và bác sĩ',
  alert_level_dropout: 'Ngưỡng bỏ trị',

  alert_msg_subject: (p: { level: string; code: string; missed: number }) => `[Methadone Point] ${p.level}: ${p.code} bỏ ${p.missed} ngày liên tiếp`,
  alert_msg_body: (p: Alert & { level: string }) =>
    `${p.level}\n\nNgười bệnh: ${p.name} (${p.code})\nBỏ liều ${p.missed} ngày liên tiếp, từ ngày ${p.since}\nĐiện thoại: ${p.phone || '—'}\nCơ sở điều trị: ${p.clinic}\n\nVui lòng liên hệ người bệnh và ghi lại kết quả trong danh sách bỏ liều.`,
  fu_err_hold_required: 'Nằm viện hoặc bị tạm giữ: nhập ngày dự kiến kết thúc (tạm dừng nhắc đến ngày đó).',
  fu_err_date_past: 'Ngày này đã qua: chọn hôm nay hoặc một ngày sau.',
  fu_err_already_ruled: 'Đề xuất này đã được xử lý (có thể người bệnh đã quay lại hoặc người khác vừa quyết định).',

  audit_action_day_close: 'Chốt ngày (đếm người bỏ liều)',
  audit_action_contact_log: 'Ghi nhận liên hệ người bệnh',
  audit_action_dropout_confirm: 'Xác nhận bỏ trị',
  audit_action_dropout_reject: 'Không xác nhận bỏ trị',
  audit_action_notify_settings: 'Đổi cách nhận cảnh báo',
  audit_action_outbox_retry: 'Gửi lại thông báo',

  alert_msg_sms: (p: Alert) => `${p.code} ${p.name} bo ${p.missed} ngay tu ${p.since}. DT ${p.phone || '-'}. ${p.clinic}`,
};

export const en: Shape<typeof vi> = {
  alert_level_missed: 'Missed dose',
  alert_level_counsellor: 'Counsellor to contact',
  alert_level_doctor: 'Counsellor and doctor',
  alert_level_dropout: 'Dropout threshold',

  alert_msg_subject: (p) => `[Methadone Point] ${p.level}: ${p.code} missed ${p.missed} days in a row`,
  alert_msg_body: (p) =>
    `${p.level}\n\nPatient: ${p.name} (${p.code})\nMissed ${p.missed} days in a row, since ${p.since}\nPhone: ${p.phone || '—'}\nClinic: ${p.clinic}\n\nPlease contact the patient and log the outcome on the missed-dose list.`,
  fu_err_hold_required: 'In hospital or custody: enter the expected end date (reminders pause until then).',
  fu_err_date_past: 'This date has passed: choose today or a later day.',
  fu_err_already_ruled: 'This proposal has already been dealt with (the patient may have come back, or someone else just decided).',

  audit_action_day_close: 'Day close (missed doses counted)',
  audit_action_contact_log: 'Contact with a patient logged',
  audit_action_dropout_confirm: 'Dropout confirmed',
  audit_action_dropout_reject: 'Dropout not confirmed',
  audit_action_notify_settings: 'Alert channels changed',
  audit_action_outbox_retry: 'Message sent again',

  alert_msg_sms: (p) => `${p.code} ${p.name} missed ${p.missed} days since ${p.since}. Tel ${p.phone || '-'}. ${p.clinic}`,
};
