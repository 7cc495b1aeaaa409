// A small set of typed failures, thrown by services and mapped to an HTTP
// status and a message in one place (app.onError). Services never see Hono.
import type { TextKey } from '../views/i18n/index.ts';

export type FieldErrors = Record<string, TextKey>;

export class Invalid extends Error {
  readonly kind = 'invalid';
  constructor(readonly fields: FieldErrors) {
    super(`invalid input: ${Object.keys(fields).join(', ')}`);
  }
}
export class NotFound extends Error {
  readonly kind = 'not_found';
  constructor(what = 'record') {
    super(`${what} not found`);
  }
}
export class Forbidden extends Error {
  readonly kind = 'forbidden';
  constructor(readonly reason: 'role' | 'csrf' = 'role') {
    super(`forbidden: ${reason}`);
  }
}
export class Conflict extends Error {
  readonly kind = 'conflict';
  constructor(readonly messageKey: TextKey = 'error_409') {
    super('conflict');
  }
}

export type Outcome = Invalid | NotFound | Forbidden | Conflict;

/** Postgres unique-violation on the named constraint (both drivers expose `code` and `constraint_name`/`constraint`). */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    const err = cur as { code?: string; constraint_name?: string; constraint?: string };
    if (err.code === '23505') return !constraint || err.constraint_name === constraint || err.constraint === constraint;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** A clinical rule refused the act: the findings carry rule ids and values for the message. */
export class Refused extends Error {
  readonly kind = 'refused';
  constructor(readonly findings: readonly { rule: string; code: string; values: Record<string, number | string> }[]) {
    super(`refused by ${findings.map((f) => f.rule).join(', ')}`);
  }
}
