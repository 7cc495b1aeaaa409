/**
 * Folds Vietnamese text for search: lower case, no diacritics, đ → d, single
 * spaces. "Nguyễn  Văn An" → "nguyen van an". Pure; used when storing a search
 * column and when reading a query, so both sides fold the same way.
 */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}
