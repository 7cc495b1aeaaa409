// Who may do what: data, not code scattered through handlers. Deny by default:
// a route missing from ROUTE_ACCESS answers 403 to everyone, and a test lists
// every route of the app and fails if one is missing here.
import type { Role } from '../../db/schema.ts';

export const ACTIONS = [
  'home.view', // one's own home page
  'account.self', // change one's password, choose the language, log out
  'clinic.view', // a clinic one works at
  'clinic.manage', // create and edit clinics (system-wide)
  'staff.manage', // create accounts, reset passwords, deactivate (system-wide)
  'audit.view', // the audit log (admin: all; manager: their clinics)
  'place.lookup', // the commune picker
  'patient.view', // patients of one's clinics: search, record, photo, card
  'patient.edit', // register, edit, photo
  'patient.import', // import a spreadsheet of patients
  'patient.hiv', // see and set HIV status
  'patient.national_id', // see and set the national ID number
  'episode.manage', // enrol, end, re-enrol, transfer
  'guest.authorise', // R16 guest dosing at another clinic
  'order.prescribe', // dose orders
  'urine.record', // urine drug test results
  'rules.manage', // rule set parameters
  'counter.dose', // the counter: scan, decide, record doses, take-home, swallow check, refer, call the queue
  'counter.checkin', // check a patient in at reception or a self check-in tablet
  'dose.review', // the doctor's review of doses withheld or refused by the rules (R10, R11)
  'dose.void', // void a mistaken dose record, with a reason
  'register.view', // the daily dispensing register, printable and CSV
  'followup.view', // the missed-dose list and the day closes of one's clinics
  'followup.contact', // log a contact with a patient who missed doses
  'contact.notes', // read the notes of contacts (counsellors' notes are sensitive)
  'alerts.inbox', // one's own alert messages and their badge
  'alerts.settings', // how one's alerts reach one (e-mail, webhook)
  'dropout.rule', // confirm or reject a proposed dropout (R18)
  'dayclose.run', // close a service day now, on demand
  'delivery.view', // the outbox's delivery log, and sending a failed message again
  'termination.review', // R19: record that the grounds to review termination were reviewed
  'report.view', // the dashboard, retention, adherence and programme reports of one's clinics, and their exports
  'report.patients', // the patients behind a report's figure
  'pump.view', // the pumps of one's clinics: state, reservoir, calibration, events
  'pump.operate', // prime a pump and run its calibration check
  'pump.confirm', // accept a pump that answers with a serial other than the configured one
  'pump.configure', // add, edit and retire pumps (system-wide)
] as const;
export type Action = (typeof ACTIONS)[number];

const ALL: readonly Role[] = ['admin', 'doctor', 'nurse', 'counsellor', 'manager'];

export const PERMISSIONS: Record<Action, readonly Role[]> = {
  'home.view': ALL,
  'account.self': ALL,
  'clinic.view': ALL,
  'clinic.manage': ['admin'],
  'staff.manage': ['admin'],
  'audit.view': ['admin', 'manager'],
  'place.lookup': ALL,
  'patient.view': ['doctor', 'nurse', 'counsellor', 'manager'],
  'patient.edit': ['doctor', 'nurse', 'counsellor'],
  'patient.import': ['doctor', 'nurse', 'counsellor'],
  'patient.hiv': ['doctor', 'counsellor'],
  'patient.national_id': ['doctor', 'nurse', 'counsellor'],
  'episode.manage': ['doctor', 'manager'],
  'guest.authorise': ['doctor'],
  'order.prescribe': ['doctor'],
  'urine.record': ['doctor', 'nurse'],
  'rules.manage': ['admin'],
  'counter.dose': ['nurse', 'doctor'],
  'counter.checkin': ['nurse', 'doctor', 'counsellor'],
  'dose.review': ['doctor'],
  'dose.void': ['doctor', 'manager'],
  'register.view': ['nurse', 'doctor', 'manager'],
  'followup.view': ['counsellor', 'doctor', 'nurse', 'manager'],
  'followup.contact': ['counsellor', 'doctor', 'nurse'],
  'contact.notes': ['counsellor', 'doctor'],
  'alerts.inbox': ['counsellor', 'doctor', 'manager'],
  'alerts.settings': ['counsellor', 'doctor', 'manager'],
  'dropout.rule': ['manager'],
  'dayclose.run': ['manager'],
  'delivery.view': ['admin'],
  'termination.review': ['doctor'],
  'report.view': ['manager', 'doctor'],
  'report.patients': ['manager', 'doctor'],
  'pump.view': ['nurse', 'doctor', 'manager', 'admin'],
  'pump.operate': ['nurse', 'doctor', 'manager'],
  'pump.confirm': ['manager', 'admin'],
  'pump.configure': ['admin'],
};

export function can(role: Role, action: Action): boolean {
  return PERMISSIONS[action].includes(role);
}

/** Reachable without a session. Everything else needs one, and the action's role. */
export const PUBLIC = 'public';
export type Access = Action | typeof PUBLIC;

/** Every route of the app, "METHOD /path" as registered, and what it requires. */
export const ROUTE_ACCESS: Record<string, Access> = {
  'GET /healthz': PUBLIC,
  'GET /static/:file': PUBLIC,
  'GET /login': PUBLIC,
  'POST /login': PUBLIC,
  'POST /lang': PUBLIC,
  'POST /logout': 'account.self',
  'GET /': 'home.view',
  'GET /home': 'home.view',
  'GET /account/password': 'account.self',
  'POST /account/password': 'account.self',
  'GET /clinics/:clinicId': 'clinic.view',
  'GET /admin/clinics': 'clinic.manage',
  'GET /admin/clinics/new': 'clinic.manage',
  'POST /admin/clinics': 'clinic.manage',
  'GET /admin/clinics/:clinicId/edit': 'clinic.manage',
  'POST /admin/clinics/:clinicId': 'clinic.manage',
  'GET /places/communes': 'place.lookup',
  'GET /admin/staff': 'staff.manage',
  'GET /admin/staff/new': 'staff.manage',
  'POST /admin/staff': 'staff.manage',
  'GET /admin/staff/:userId/edit': 'staff.manage',
  'POST /admin/staff/:userId': 'staff.manage',
  'POST /admin/staff/:userId/reset-password': 'staff.manage',
  'POST /admin/staff/:userId/deactivate': 'staff.manage',
  'POST /admin/staff/:userId/reactivate': 'staff.manage',
  'GET /audit': 'audit.view',
  'GET /patients': 'patient.view',
  'GET /patients/new': 'patient.edit',
  'POST /patients': 'patient.edit',
  'GET /patients/import': 'patient.import',
  'POST /patients/import': 'patient.import',
  'GET /patients/:patientId': 'patient.view',
  'GET /patients/:patientId/edit': 'patient.edit',
  'POST /patients/:patientId': 'patient.edit',
  'GET /patients/:patientId/photo': 'patient.view',
  'POST /patients/:patientId/photo': 'patient.edit',
  'GET /patients/:patientId/card': 'patient.view',
  'POST /patients/:patientId/episodes': 'episode.manage',
  'POST /patients/:patientId/episodes/end': 'episode.manage',
  'POST /patients/:patientId/transfer': 'episode.manage',
  'POST /patients/:patientId/guests': 'guest.authorise',
  'GET /patients/:patientId/orders/new': 'order.prescribe',
  'POST /patients/:patientId/orders': 'order.prescribe',
  'POST /patients/:patientId/urine-tests': 'urine.record',
  'GET /counter': 'counter.dose',
  'GET /counter/queue': 'counter.dose',
  'GET /counter/find': 'counter.dose',
  'GET /counter/card/:patientId': 'counter.dose',
  'POST /counter/check': 'counter.dose',
  'POST /counter/dose': 'counter.dose',
  'POST /counter/swallow': 'counter.dose',
  'POST /counter/take-home': 'counter.dose',
  'POST /counter/refer': 'counter.dose',
  'POST /counter/call-next': 'counter.dose',
  'GET /counter/pump/:doseId': 'counter.dose',
  'POST /counter/pump/:doseId/stop': 'counter.dose',
  'POST /counter/pump/:doseId/resolve': 'counter.dose',
  'GET /pumps': 'pump.view',
  'GET /pumps/:id': 'pump.view',
  'GET /pumps/:id/state': 'pump.view',
  'POST /pumps/:id/prime': 'pump.operate',
  'POST /pumps/:id/calibration/test': 'pump.operate',
  'POST /pumps/:id/calibration': 'pump.operate',
  'POST /pumps/:id/confirm': 'pump.confirm',
  'POST /pumps': 'pump.configure',
  'POST /pumps/:id': 'pump.configure',
  'GET /checkin': 'counter.checkin',
  'POST /checkin': 'counter.checkin',
  'GET /review': 'dose.review',
  'POST /review': 'dose.review',
  'GET /register': 'register.view',
  'GET /register.csv': 'register.view',
  'POST /doses/:doseId/void': 'dose.void',
  'GET /admin/rules': 'rules.manage',
  'POST /admin/rules': 'rules.manage',
  'GET /followup': 'followup.view',
  'GET /followup/contact-form': 'followup.contact',
  'POST /followup/contact': 'followup.contact',
  'GET /followup/dropouts': 'dropout.rule',
  'POST /followup/dropouts/:alertId': 'dropout.rule',
  'GET /followup/closes': 'followup.view',
  'POST /followup/closes': 'dayclose.run',
  'GET /alerts': 'alerts.inbox',
  'GET /alerts/badge': 'alerts.inbox',
  'POST /alerts/read': 'alerts.inbox',
  'GET /account/alerts': 'alerts.settings',
  'POST /account/alerts': 'alerts.settings',
  'GET /admin/deliveries': 'delivery.view',
  'POST /admin/deliveries/:outboxId/retry': 'delivery.view',
  'POST /followup/reviews/:alertId': 'termination.review',
  'GET /reports': 'report.view',
  'GET /reports/retention': 'report.view',
  'GET /reports/adherence': 'report.view',
  'GET /reports/programme': 'report.view',
  'GET /reports/programme.csv': 'report.view',
  'GET /reports/programme.xlsx': 'report.view',
  'GET /reports/patients': 'report.patients',
};

/** Where each role lands after login. */
export const ROLE_HOME: Record<Role, string> = {
  admin: '/home',
  doctor: '/home',
  nurse: '/home',
  counsellor: '/home',
  manager: '/home',
};
