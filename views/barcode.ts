// Code 128 (ISO/IEC 15417), code set B only: every printable ASCII character
// (32–126), which covers the patient code (e.g. HP01-00001) that a USB
// scanner types back into the search box. Pure: text in, SVG text out.

/**
 * The 107 symbols as widths of bar, space, bar, space, bar, space (in
 * modules, 11 in all); 106 is the stop pattern with its final 2-module bar.
 * Code set B: value = character code − 32.
 */
const PATTERNS: readonly string[] = [
  '212222', '222122', '222221', '121223', '121322', '131222', '122213', '122312', '132212', '221213',
  '221312', '231212', '112232', '122132', '122231', '113222', '123122', '123221', '223211', '221132',
  '221231', '213212', '223112', '312131', '311222', '321122', '321221', '312212', '322112', '322211',
  '212123', '212321', '232121', '111323', '131123', '131321', '112313', '132113', '132311', '211313',
  '231113', '231311', '112133', '112331', '132131', '113123', '113321', '133121', '313121', '211331',
  '231131', '213113', '213311', '213131', '311123', '311321', '331121', '312113', '312311', '332111',
  '314111', '221411', '431111', '111224', '111422', '121124', '121421', '141122', '141221', '112214',
  '112412', '122114', '122411', '142112', '142211', '241211', '221114', '413111', '241112', '134111',
  '111242', '121142', '121241', '114212', '124112', '124211', '411212', '421112', '421211', '212141',
  '214121', '412121', '111143', '111341', '131141', '114113', '114311', '411113', '411311', '113141',
  '114131', '311141', '411131', '211412', '211214', '211232', '2331112',
];

export const START_B = 104;
export const STOP = 106;
/** Blank modules on each side: the standard asks for at least 10. */
export const QUIET_ZONE = 10;

/** The symbol values of `text`: start B, one per character, the mod-103 checksum, stop. */
export function code128Values(text: string): number[] {
  if (text.length === 0) throw new RangeError('Code 128: nothing to encode');
  const values = [START_B];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 32 || code > 126) throw new RangeError(`Code 128 set B cannot encode the character at position ${i} (code ${code})`);
    values.push(code - 32);
  }
  let sum = START_B;
  for (let i = 1; i < values.length; i++) sum += values[i]! * i;
  values.push(sum % 103, STOP);
  return values;
}

/** Alternating bar and space widths in modules, quiet zones not included; starts and ends with a bar. */
export function code128Widths(text: string): number[] {
  return code128Values(text).flatMap((v) => [...PATTERNS[v]!].map(Number));
}

export interface BarcodeOptions {
  /** Width of one module in SVG user units (px); a whole number ≥ 1. */
  module?: number;
  /** Height of the bars in SVG user units (px). */
  height?: number;
  /** Extra class on the <svg>. */
  className?: string;
}

const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * An SVG of the barcode: a white ground (the quiet zones included) and one
 * black rect per bar, every edge on a whole module. It scales with CSS
 * (preserveAspectRatio="none": bars stretch, their proportions stay).
 */
export function code128Svg(text: string, opts: BarcodeOptions = {}): string {
  const m = opts.module ?? 2;
  const height = opts.height ?? 60;
  if (!Number.isInteger(m) || m < 1) throw new RangeError('Code 128: the module width must be a whole number ≥ 1');
  if (!Number.isInteger(height) || height < 1) throw new RangeError('Code 128: the height must be a whole number ≥ 1');
  const widths = code128Widths(text);
  const modules = widths.reduce((a, b) => a + b, 0) + 2 * QUIET_ZONE;
  const width = modules * m;
  const bars: string[] = [];
  let x = QUIET_ZONE;
  widths.forEach((w, i) => {
    if (i % 2 === 0) bars.push(`<rect x="${x * m}" y="0" width="${w * m}" height="${height}"/>`);
    x += w;
  });
  const label = escapeXml(text);
  const cls = opts.className ? ` class="${escapeXml(opts.className)}"` : '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg"${cls} role="img" aria-label="${label}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" shape-rendering="crispEdges" data-modules="${modules}">` +
    `<title>${label}</title>` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>` +
    `<g fill="#000">${bars.join('')}</g>` +
    `</svg>`
  );
}
