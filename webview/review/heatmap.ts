// Colours of the per-token heatmaps. Pure: values in, CSS classes and colours out.
//
// Rewards (and their change between two scoring runs) use one diverging scale centred at 0 for
// both sides: blue where DPO would push the token up, orange where it would push it down
// (blue/orange stays apart for the common colour-vision deficiencies; no red/green). Log-probs use
// a sequential scale of the same blue, darker for less likely tokens. Values are clamped at
// ±clamp and put into BINS bins per sign, so a whole side is painted with a few CSS classes.
import type { HeatmapMode, ScoredToken } from '../contract';

/** Bins per sign. */
export const BINS = 8;

/** The value a token is painted by in a mode (undefined: not painted). */
export function tokenValue(t: ScoredToken, mode: HeatmapMode): number | undefined {
  switch (mode) {
    case 'reward':
      return t.reward;
    case 'policy':
      return t.logpPolicy;
    case 'reference':
      return t.logpRef;
    case 'mask':
      return t.inLoss ? 1 : undefined;
    default:
      return undefined;
  }
}

/** A clamp that shows the contrast of these values: the 95th percentile of their magnitudes
 * (so one outlier does not wash out the rest), at least a small floor, rounded for the legend. */
export function clampFor(values: readonly number[]): number {
  const mags = values.map((v) => Math.abs(v)).filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (mags.length === 0) return 1;
  const p95 = mags[Math.min(mags.length - 1, Math.floor(0.95 * (mags.length - 1)))];
  const c = Math.max(p95, 1e-3);
  const digits = Math.max(0, 2 - Math.floor(Math.log10(c)));
  return Number(c.toFixed(Math.min(digits, 4)));
}

/** The bin of a value: -BINS..BINS, 0 for |v| below half a bin (painted as nothing). */
export function binOf(value: number, clamp: number): number {
  if (!Number.isFinite(value) || clamp <= 0) return 0;
  const x = Math.max(-1, Math.min(1, value / clamp));
  return Math.round(x * BINS);
}

/** The CSS class of a bin in a mode ('' for bin 0). */
export function binClass(mode: HeatmapMode, bin: number): string {
  if (bin === 0 || mode === 'off') return '';
  if (mode === 'mask') return 'pf-heat-mask';
  const scale = mode === 'reward' ? 'div' : 'seq';
  return `pf-heat-${scale}-${bin < 0 ? 'n' : 'p'}${Math.abs(bin)}`;
}

const BLUE: readonly [number, number, number] = [33, 102, 172];
const ORANGE: readonly [number, number, number] = [230, 97, 1];

/** The colour of a bin: blue for positive, orange for negative, alpha growing with the bin. */
export function binColour(bin: number, theme: 'light' | 'dark'): string {
  const [r, g, b] = bin >= 0 ? BLUE : ORANGE;
  const alpha = (Math.abs(bin) / BINS) * (theme === 'dark' ? 0.75 : 0.6);
  // Written as the browser computes it back (no trailing zeros), so tests compare them directly.
  return `rgba(${r}, ${g}, ${b}, ${Number(alpha.toFixed(3))})`;
}

/** The stylesheet of every bin class for a theme (the webview adds it once per theme). */
export function heatmapCss(theme: 'light' | 'dark'): string {
  const rules: string[] = [];
  for (let i = 1; i <= BINS; i++) {
    for (const sign of [-1, 1]) {
      const bin = sign * i;
      const name = `${bin < 0 ? 'n' : 'p'}${i}`;
      rules.push(`.pf-heat-div-${name} { background-color: ${binColour(bin, theme)}; }`);
    }
    // Log-probs are <= 0: more negative = less likely = darker blue.
    rules.push(`.pf-heat-seq-n${i} { background-color: ${binColour(i, theme)}; }`);
    rules.push(`.pf-heat-seq-p${i} { background-color: ${binColour(i, theme)}; }`);
  }
  rules.push(`.pf-heat-mask { background-color: ${binColour(BINS / 2, theme)}; }`);
  rules.push('.pf-out-of-loss { opacity: 0.45; }');
  return rules.join('\n');
}

/** Legend stops of a mode: [value, colour] from -clamp to +clamp (or 0..-clamp for log-probs). */
export function legendStops(mode: HeatmapMode, clamp: number, theme: 'light' | 'dark'): { value: number; colour: string }[] {
  if (mode === 'off' || mode === 'mask') return [];
  const stops: { value: number; colour: string }[] = [];
  const from = mode === 'reward' ? -BINS : 0;
  for (let b = from; b <= BINS; b += 2) {
    const value = mode === 'reward' ? (b / BINS) * clamp : -(b / BINS) * clamp;
    stops.push({ value, colour: b === 0 ? 'transparent' : binColour(mode === 'reward' ? b : Math.abs(b), theme) });
  }
  return stops;
}
