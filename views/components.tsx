import type { Child } from 'hono/jsx';
import type { Messages, TextKey } from './i18n/index.ts';

export type Errors = Record<string, TextKey>;

/** A labelled form field with its message; the message is tied to the input for screen readers. */
export function Field(props: { id: string; label: string; error?: TextKey | undefined; t: Messages; hint?: string; children: Child }) {
  const { id, error, t } = props;
  return (
    <div class={error ? 'field has-error' : 'field'}>
      <label for={id}>{props.label}</label>
      {props.children}
      {props.hint && (
        <small id={`${id}-hint`} class="hint">
          {props.hint}
        </small>
      )}
      {error && (
        <small id={`${id}-error`} class="error" role="alert">
          {t[error]}
        </small>
      )}
    </div>
  );
}

/** aria attributes for an input inside a Field. */
export function describedBy(id: string, error: TextKey | undefined, hint?: boolean) {
  const ids = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ');
  return { 'aria-describedby': ids || undefined, 'aria-invalid': error ? 'true' : undefined };
}

export function FormErrors({ errors, t }: { errors: Errors; t: Messages }) {
  return Object.keys(errors).length ? (
    <p class="form-errors" role="alert">
      {t.form_has_errors}
    </p>
  ) : null;
}

export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}
