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
  'GET /admin/communes': 'clinic.manage',
  'GET /admin/staff': 'staff.manage',
  'GET /admin/staff/new': 'staff.manage',
  'POST /admin/staff': 'staff.manage',
  'GET /admin/staff/:userId/edit': 'staff.manage',
  'POST /admin/staff/:userId': 'staff.manage',
  'POST /admin/staff/:userId/reset-password': 'staff.manage',
  'POST /admin/staff/:userId/deactivate': 'staff.manage',
  'POST /admin/staff/:userId/reactivate': 'staff.manage',
  'GET /audit': 'audit.view',
};

/** Where each role lands after login. */
export const ROLE_HOME: Record<Role, string> = {
  admin: '/home',
  doctor: '/home',
  nurse: '/home',
  counsellor: '/home',
  manager: '/home',
};
