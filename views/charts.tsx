// Charts drawn on the server as SVG: no script, readable on a phone (they
// scale to the width) and in print (black lines, dash patterns rather than
// colour alone). Every chart is given its figures as a table beside it by
// the page; the SVG has a title for screen readers.

export interface CurveStep {
  day: number;
  survival: number;
}

export interface Curve {
  label: string;
  steps: CurveStep[];
  /** Last day observed (where the curve stops). */
  lastDay: number;
  dashed?: boolean;
}

const W = 640;
const H = 330;
const PAD = { left: 56, right: 20, top: 12, bottom: 96 };
const plotW = W - PAD.left - PAD.right;
const plotH = H - PAD.top - PAD.bottom;
const pct = (n: number) => `${Math.round(n * 100)}%`;

/** The value of a step function at `day` (1 before the first step). */
export function survivalAt(steps: readonly CurveStep[], day: number): number {
  let s = 1;
  for (const st of steps) {
    if (st.day > day) break;
    s = st.survival;
  }
  return s;
}

/**
 * Kaplan–Meier curves over `maxDay` days, ticks at `ticks` (days, with their
 * labels), and the number at risk printed under the axis at those ticks.
 */
export function KmChart(props: { title: string; xLabel: string; yLabel: string; atRiskLabel: string; curves: Curve[]; maxDay: number; ticks: { day: number; label: string; atRisk: number }[] }) {
  const x = (day: number) => PAD.left + (Math.min(day, props.maxDay) / props.maxDay) * plotW;
  const y = (s: number) => PAD.top + (1 - s) * plotH;
  const path = (c: Curve) => {
    let d = `M${x(0).toFixed(1)},${y(1).toFixed(1)}`;
    for (const st of c.steps) {
      if (st.day > props.maxDay) break;
      d += ` H${x(st.day).toFixed(1)} V${y(st.survival).toFixed(1)}`;
    }
    return `${d} H${x(Math.min(c.lastDay, props.maxDay)).toFixed(1)}`;
  };
  return (
    <svg class="chart km" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title} preserveAspectRatio="xMidYMid meet">
      <title>{props.title}</title>
      {[0, 0.25, 0.5, 0.75, 1].map((s) => (
        <g>
          <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(s)} y2={y(s)} />
          <text class="tick" x={PAD.left - 6} y={y(s) + 4} text-anchor="end">
            {pct(s)}
          </text>
        </g>
      ))}
      <line class="axis" x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={PAD.top + plotH} />
      <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={PAD.top + plotH} y2={PAD.top + plotH} />
      {props.ticks.map((t) => (
        <g>
          <line class="axis" x1={x(t.day)} x2={x(t.day)} y1={PAD.top + plotH} y2={PAD.top + plotH + 4} />
          <text class="tick" x={x(t.day)} y={PAD.top + plotH + 20} text-anchor="middle">
            {t.label}
          </text>
          <text class="at-risk" x={x(t.day)} y={PAD.top + plotH + 66} text-anchor="middle">
            {t.atRisk}
          </text>
        </g>
      ))}
      <text class="label" x={PAD.left + plotW / 2} y={PAD.top + plotH + 42} text-anchor="middle">
        {props.xLabel}
      </text>
      <text class="label" x={PAD.left} y={PAD.top + plotH + 88}>
        {props.atRiskLabel}
      </text>
      {props.curves.map((c, i) => (
        <path class={`curve curve-${i}`} d={path(c)} fill="none" stroke-dasharray={c.dashed ? '6 4' : undefined}>
          <title>{c.label}</title>
        </path>
      ))}
    </svg>
  );
}

/** A legend for KmChart's curves, as HTML (wraps on a phone). */
export function Legend({ curves }: { curves: Curve[] }) {
  return (
    <ul class="legend">
      {curves.map((c, i) => (
        <li>
          <svg viewBox="0 0 30 10" width="30" height="10" aria-hidden="true">
            <line class={`curve curve-${i}`} x1="0" x2="30" y1="5" y2="5" stroke-dasharray={c.dashed ? '6 4' : undefined} />
          </svg>{' '}
          {c.label}
        </li>
      ))}
    </ul>
  );
}

/** Horizontal bars, one per row, with the value written at the end of each. */
export function BarChart(props: { title: string; bars: { label: string; value: number; text: string }[] }) {
  const rowH = 28;
  const labelW = 120;
  const height = props.bars.length * rowH + 8;
  const max = Math.max(1, ...props.bars.map((b) => b.value));
  const barW = W - labelW - 80;
  return (
    <svg class="chart bars" viewBox={`0 0 ${W} ${height}`} role="img" aria-label={props.title}>
      <title>{props.title}</title>
      {props.bars.map((b, i) => (
        <g>
          <text class="tick" x={labelW - 8} y={i * rowH + 20} text-anchor="end">
            {b.label}
          </text>
          <rect class="bar" x={labelW} y={i * rowH + 6} width={Math.max(b.value > 0 ? 2 : 0, (b.value / max) * barW)} height={rowH - 10} />
          <text class="tick" x={labelW + (b.value / max) * barW + 6} y={i * rowH + 20}>
            {b.text}
          </text>
        </g>
      ))}
    </svg>
  );
}
