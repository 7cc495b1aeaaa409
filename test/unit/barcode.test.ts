// The treatment card's barcode: Code 128 set B. Known encodings worked out by
// hand, and an independent reader (test/helpers/code128-reader.ts, with its
// own symbol table) that reads the printed bars back to the text, as a USB
// scanner at the counter would.
import { describe, expect, it } from 'vitest';
import { code128Svg, code128Values, code128Widths, QUIET_ZONE } from '../../views/barcode.ts';
import { readCode128, READER_SYMBOLS, STOP_MODULES } from '../helpers/code128-reader.ts';

const modulesOf = (widths: number[]): string => widths.map((w, i) => (i % 2 === 0 ? '1' : '0').repeat(w)).join('');

/** A bare SVG of bars from widths (quiet zones of 10 modules, 1 unit per module). */
function svgOf(widths: number[]): string {
  let x = 10;
  const bars: string[] = [];
  widths.forEach((w, i) => {
    if (i % 2 === 0) bars.push(`<rect x="${x}" y="0" width="${w}" height="10"/>`);
    x += w;
  });
  return `<svg viewBox="0 0 ${x + 10} 10">${bars.join('')}</svg>`;
}

describe('Code 128 set B: known encodings', () => {
  it('HP01-00001: values and the mod-103 checksum worked out by hand', () => {
    // Set B value = ASCII − 32: H 72→40, P 80→48, 0 48→16, 1 49→17, - 45→13.
    // Checksum = (104 + Σ position × value) mod 103
    //   = (104 + 1·40 + 2·48 + 3·16 + 4·17 + 5·13 + 6·16 + 7·16 + 8·16 + 9·16 + 10·17) mod 103
    //   = (104 + 40 + 96 + 48 + 68 + 65 + 96 + 112 + 128 + 144 + 170) mod 103
    //   = 1071 mod 103 = 1071 − 10·103 = 41
    expect(code128Values('HP01-00001')).toEqual([104, 40, 48, 16, 17, 13, 16, 16, 16, 16, 17, 41, 106]);
  });

  it('more checksums by hand', () => {
    // "A": 104 + 1·33 = 137; 137 − 103 = 34.
    expect(code128Values('A')).toEqual([104, 33, 34, 106]);
    // " " (space, value 0): 104 mod 103 = 1.
    expect(code128Values(' ')).toEqual([104, 0, 1, 106]);
    // "~" (126 → 94): 104 + 94 = 198; 198 − 103 = 95.
    expect(code128Values('~')).toEqual([104, 94, 95, 106]);
    // "ab" (a 97→65, b 98→66): 104 + 65 + 2·66 = 301; 301 − 2·103 = 95.
    expect(code128Values('ab')).toEqual([104, 65, 66, 95, 106]);
    // A checksum of exactly 0: " S" (0, S 83→51): 104 + 0 + 2·51 = 206 = 2·103.
    expect(code128Values(' S')).toEqual([104, 0, 51, 0, 106]);
    // "#!" (3, 1): 104 + 3 + 2·1 = 109; 109 − 103 = 6.
    expect(code128Values('#!').at(-2)).toBe(6);
  });

  it('the start B pattern comes first and the stop pattern, with its final bar, last', () => {
    const w = code128Widths('HP01-00001');
    expect(w.slice(0, 6)).toEqual([2, 1, 1, 2, 1, 4]); // start B: 211214
    expect(w.slice(-7)).toEqual([2, 3, 3, 1, 1, 1, 2]); // stop: 2331112, ends on a 2-module bar
    expect(w.length % 2).toBe(1); // bar … bar
    // 11 modules per symbol (start, 10 characters, checksum) and 13 for the stop.
    expect(w.reduce((a, b) => a + b, 0)).toBe(11 * 12 + 13);
  });

  it('"A" as modules, symbol by symbol', () => {
    expect(modulesOf(code128Widths('A'))).toBe(
      '11010010000' + // start B (104)
        '10100011000' + // A (33)
        '10001011000' + // checksum 34
        '1100011101011', // stop
    );
  });

  it('the checksum symbol of HP01-00001 is 41 (231311)', () => {
    const w = code128Widths('HP01-00001');
    expect(w.slice(-13, -7)).toEqual([2, 3, 1, 3, 1, 1]);
  });

  it('every symbol is 11 modules, 3 bars and 3 spaces, with an even number of bar modules', () => {
    for (let c = 32; c <= 126; c++) {
      const w = code128Widths(String.fromCharCode(c)).slice(6, 12);
      expect(w.reduce((a, b) => a + b, 0)).toBe(11);
      expect((w[0]! + w[2]! + w[4]!) % 2).toBe(0);
      expect(modulesOf(w)).toBe(READER_SYMBOLS[c - 32]);
    }
  });

  it('refuses what set B cannot encode with a RangeError', () => {
    for (const bad of ['', 'é', 'Nguyễn', 'a\nb', '\t', '\x7f', '\x1f', 'HP01–00001' /* en dash */, '😀']) {
      expect(() => code128Values(bad), JSON.stringify(bad)).toThrow(RangeError);
      expect(() => code128Svg(bad), JSON.stringify(bad)).toThrow(RangeError);
    }
    expect(() => code128Svg('A', { module: 1.5 })).toThrow(RangeError);
    expect(() => code128Svg('A', { module: 0 })).toThrow(RangeError);
  });
});

describe('Code 128 SVG', () => {
  it('is an image labelled with the code, with integer coordinates', () => {
    const svg = code128Svg('HP01-00001');
    expect(svg).toMatch(/^<svg [^>]*role="img"/);
    expect(svg).toContain('aria-label="HP01-00001"');
    for (const m of svg.matchAll(/\b(x|width)="([^"]*)"/g)) expect(Number.isInteger(Number(m[2])), m[0]).toBe(true);
  });

  it('escapes the label', () => {
    const svg = code128Svg('a"<b>&\'');
    expect(svg).toContain('aria-label="a&#34;&#60;b&#62;&#38;&#39;"');
    expect(svg).not.toContain('<b>');
    expect(readCode128(svg).text).toBe('a"<b>&\'');
  });

  it.each([
    'HP01-00001',
    'HP01-99999',
    'HP12-04050',
    'TABCDEFGHIJ-12345',
    'hp01-00001',
    'A',
    ' ',
    '~',
    '{|}',
    ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~',
  ])('reads back %j with an independent decoder, quiet zones ≥ 10 modules', (code) => {
    const r = readCode128(code128Svg(code));
    expect(r.text).toBe(code);
    expect(r.moduleWidth).toBe(2);
    expect(r.quietLeft).toBeGreaterThanOrEqual(10);
    expect(r.quietRight).toBeGreaterThanOrEqual(10);
    expect(r.quietLeft).toBe(QUIET_ZONE);
    expect(r.modules.slice(-QUIET_ZONE - 13, -QUIET_ZONE)).toBe(STOP_MODULES);
  });

  it('reads back at other whole module widths', () => {
    for (const module of [1, 3, 4]) {
      const r = readCode128(code128Svg('HP01-00001', { module, height: 40 }));
      expect(r).toMatchObject({ text: 'HP01-00001', moduleWidth: module });
    }
  });

  it('the reader is not fooled: a damaged bar or a wrong checksum is rejected', () => {
    const svg = code128Svg('HP01-00001');
    // Widen the fifth bar by one module: symbols no longer line up.
    let n = 0;
    const damaged = svg.replace(/<rect x="(\d+)" y="0" width="(\d+)"/g, (all, x: string, w: string) => (++n === 5 ? `<rect x="${x}" y="0" width="${Number(w) + 2}"` : all));
    expect(n).toBeGreaterThan(5);
    expect(() => readCode128(damaged)).toThrow();
    // HP01-00002's bars with HP01-00001's checksum symbol.
    const good = code128Widths('HP01-00002');
    const forged = [...good.slice(0, -13), ...code128Widths('HP01-00001').slice(-13)];
    expect(forged).not.toEqual(good);
    expect(readCode128(svgOf(good)).text).toBe('HP01-00002');
    expect(() => readCode128(svgOf(forged))).toThrow(/checksum/);
  });
});
