// R1 Concentration and R2 Rounding: mg ↔ ml at the concentration of the stock
// in use, rounded down to the measuring resolution, so the given mg never
// exceeds the ordered mg. Integer arithmetic on hundredths avoids float drift.

export interface Volume {
  /** Volume to measure, ml, rounded down to the resolution. */
  ml: number;
  /** The mg that volume holds (≤ the ordered mg). */
  mg: number;
}

/** R1 + R2: the volume for an ordered mg. */
export function volumeFor(orderedMg: number, concentrationMgPerMl: number, resolutionMl: number): Volume {
  if (!(orderedMg >= 0) || !(concentrationMgPerMl > 0) || !(resolutionMl > 0)) throw new RangeError('volumeFor: invalid arguments');
  const exactMl = orderedMg / concentrationMgPerMl;
  const steps = Math.floor(exactMl / resolutionMl + 1e-9);
  const ml = round(steps * resolutionMl, 4);
  return { ml, mg: round(ml * concentrationMgPerMl, 4) };
}

/** R1: the mg in a measured volume. */
export function mgIn(ml: number, concentrationMgPerMl: number): number {
  return round(ml * concentrationMgPerMl, 4);
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
