import type { Locale } from '../../db/schema.ts';
import { en } from './en.ts';
import { vi } from './vi.ts';

/** The shape of a catalogue: Vietnamese defines the keys and each message's parameters. */
export type Messages = { [K in keyof typeof vi]: (typeof vi)[K] };
export type MessageKey = keyof Messages;
/** Keys whose message takes no parameters (usable as a plain label or an error code). */
export type TextKey = { [K in MessageKey]: Messages[K] extends string ? K : never }[MessageKey];

const catalogues: Record<Locale, Messages> = { vi, en };

export function messages(locale: Locale): Messages {
  return catalogues[locale];
}

const textKeys = new Set<string>(Object.keys(vi).filter((k) => typeof vi[k as MessageKey] === 'string'));

/** Narrows an arbitrary string (e.g. a zod issue message) to a text key. */
export function isTextKey(s: string): s is TextKey {
  return textKeys.has(s);
}

export function isLocale(s: string): s is Locale {
  return s === 'vi' || s === 'en';
}
