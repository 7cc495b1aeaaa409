import type { Locale, Role } from '../db/schema.ts';
import type { Messages, TextKey } from './i18n/index.ts';

export interface NavItem {
  href: string;
  label: TextKey;
}

/** Everything a page needs besides its own data. Built once per request by the server. */
export interface ViewContext {
  t: Messages;
  locale: Locale;
  path: string;
  user: { fullName: string; role: Role } | null;
  csrfToken: string;
  nav: NavItem[];
  flash: string | null;
  staticVersion: string;
}
