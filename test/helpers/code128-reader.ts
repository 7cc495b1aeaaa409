// A Code 128 reader for tests, written apart from views/barcode.ts (its own
// table, as module bit strings): it does what a scanner does with one line
// across the printed bars. It paints the SVG's rects along a horizontal line,
// measures the runs of black and white, finds the module width from the start
// symbol, checks the quiet zones, looks each 11-module symbol up, checks the
// start, the mod-103 checksum and the stop, and returns the text.

/** Code 128 symbols 0–105 as modules (1 = bar, 0 = space). */
const SYMBOLS = [
  '11011001100', '11001101100', '11001100110', '10010011000', '10010001100', '10001001100', '10011001000', '10011000100',
  '10001100100', '11001001000', '11001000100', '11000100100', '10110011100', '10011011100', '10011001110', '10111001100',
  '10011101100', '10011100110', '11001110010', '11001011100', '11001001110', '11011100100', '11001110100', '11101101110',
  '11101001100', '11100101100', '11100100110', '11101100100', '11100110100', '11100110010', '11011011000', '11011000110',
  '11000110110', '10100011000', '10001011000', '10001000110', '10110001000', '10001101000', '10001100010', '11010001000',
  '11000101000', '11000100010', '10110111000', '10110001110', '10001101110', '10111011000', '10111000110', '10001110110',
  '11101110110', '11010001110', '11000101110', '11011101000', '11011100010', '11011101110', '11101011000', '11101000110',
  '11100010110', '11101101000', '11101100010', '11100011010', '11101111010', '11001000010', '11110001010', '10100110000',
  '10100001100', '10010110000', '10010000110', '10000101100', '10000100110', '10110010000', '10110000100', '10011010000',
  '10011000010', '10000110100', '10000110010', '11000010010', '11001010000', '11110111010', '11000010100', '10001111010',
  '10100111100', '10010111100', '10010011110', '10111100100', '10011110100', '10011110010', '11110100100', '11110010100',
  '11110010010', '11011011110', '11011110110', '11110110110', '10101111000', '10100011110', '10001011110', '10111101000',
  '10111100010', '11110101000', '11110100010', '10111011110', '10111101110', '11101011110', '11110101110', '11010000100',
  '11010010000', '11010011100',
];
export const STOP_MODULES = '1100011101011';
export const READER_SYMBOLS: readonly string[] = SYMBOLS;
const BY_BITS = new Map(SYMBOLS.map((bits, value) => [bits, value]));

export interface Reading {
  text: string;
  /** Symbol values read, start and checksum included, stop excluded. */
  values: number[];
  /** Width of one module in SVG units. */
  moduleWidth: number;
  quietLeft: number;
  quietRight: number;
  /** The whole line as modules, quiet zones included. */
  modules: string;
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
  black: boolean;
}

function attrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([\w:-]+)="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

const isBlack = (fill: string | undefined): boolean => {
  const f = (fill ?? '#000').toLowerCase();
  return f === '#000' || f === '#000000' || f === 'black';
};

/** The first <svg> … </svg> in a piece of HTML, or the SVG itself. */
export function extractSvg(html: string): string {
  const m = /<svg[\s\S]*?<\/svg>/.exec(html);
  if (!m) throw new Error('no <svg> found');
  return m[0];
}

/** The rects of an SVG with their painted colour (own fill, else the enclosing <g>'s, else black). */
function rectsOf(svg: string): { width: number; height: number; rects: Rect[] } {
  const open = /<svg\b([^>]*)>/.exec(svg);
  if (!open) throw new Error('not an svg');
  const root = attrs(open[1]!);
  const vb = (root.viewBox ?? `0 0 ${root.width} ${root.height}`).split(/\s+/).map(Number);
  const [, , width, height] = vb as [number, number, number, number];
  const rects: Rect[] = [];
  const fills: (string | undefined)[] = [];
  for (const m of svg.matchAll(/<(\/?)(\w+)([^>]*?)(\/?)>/g)) {
    const [, closing, tag, rest, selfClosing] = m as unknown as [string, string, string, string, string];
    if (tag === 'g') {
      if (closing) fills.pop();
      else if (!selfClosing) fills.push(attrs(rest).fill ?? fills[fills.length - 1]);
    } else if (tag === 'rect' && !closing) {
      const a = attrs(rest);
      rects.push({
        x: Number(a.x ?? 0),
        y: Number(a.y ?? 0),
        width: Number(a.width),
        height: Number(a.height),
        black: isBlack(a.fill ?? fills[fills.length - 1]),
      });
    }
  }
  return { width, height, rects };
}

/** Reads the barcode along the horizontal line at mid-height. Throws on anything a scanner would reject. */
export function readCode128(svgOrHtml: string): Reading {
  const { width, height, rects } = rectsOf(extractSvg(svgOrHtml));
  if (!Number.isInteger(width) || width <= 0) throw new Error(`bad viewBox width ${width}`);
  const y = height / 2;
  const line = new Array<number>(width).fill(0); // 0 white, 1 black
  for (const r of rects) {
    if (![r.x, r.width].every(Number.isInteger)) throw new Error(`bar edge off the pixel grid: x=${r.x} width=${r.width}`);
    if (y < r.y || y > r.y + r.height) continue;
    for (let i = Math.max(0, r.x); i < Math.min(width, r.x + r.width); i++) line[i] = r.black ? 1 : 0;
  }
  // Runs of one colour.
  const runs: { black: boolean; length: number }[] = [];
  for (const px of line) {
    const last = runs[runs.length - 1];
    if (last && last.black === (px === 1)) last.length++;
    else runs.push({ black: px === 1, length: 1 });
  }
  if (runs.length < 3 || runs[0]!.black || runs[runs.length - 1]!.black) throw new Error('no white quiet zone at both ends');
  // The start symbol is 6 elements and 11 modules: that gives the module width.
  const startPixels = runs.slice(1, 7).reduce((a, r) => a + r.length, 0);
  if (startPixels % 11 !== 0) throw new Error(`start symbol is ${startPixels} units, not a multiple of 11`);
  const moduleWidth = startPixels / 11;
  let modules = '';
  for (const r of runs) {
    if (r.length % moduleWidth !== 0) throw new Error(`a ${r.black ? 'bar' : 'space'} of ${r.length} units is not a whole number of ${moduleWidth}-unit modules`);
    modules += (r.black ? '1' : '0').repeat(r.length / moduleWidth);
  }
  const quietLeft = runs[0]!.length / moduleWidth;
  const quietRight = runs[runs.length - 1]!.length / moduleWidth;
  const data = modules.slice(quietLeft, modules.length - quietRight);
  if (!data.endsWith(STOP_MODULES)) throw new Error('no stop pattern');
  const body = data.slice(0, -STOP_MODULES.length);
  if (body.length % 11 !== 0) throw new Error(`symbols take ${body.length} modules, not a multiple of 11`);
  const values: number[] = [];
  for (let i = 0; i < body.length; i += 11) {
    const v = BY_BITS.get(body.slice(i, i + 11));
    if (v === undefined) throw new Error(`unknown symbol ${body.slice(i, i + 11)} at module ${i}`);
    values.push(v);
  }
  if (values[0] !== 104) throw new Error(`start is ${values[0]}, not start B (104)`);
  if (values.length < 3) throw new Error('no data');
  const data_ = values.slice(1, -1);
  const check = values[values.length - 1]!;
  const sum = data_.reduce((acc, v, i) => acc + v * (i + 1), 104);
  if (sum % 103 !== check) throw new Error(`checksum ${check} does not match ${sum % 103}`);
  const text = data_
    .map((v) => {
      if (v > 94) throw new Error(`symbol ${v} is a function code, not a character of set B`);
      return String.fromCharCode(v + 32);
    })
    .join('');
  return { text, values, moduleWidth, quietLeft, quietRight, modules };
}
