// The heatmap's scale: bins of known values, the clamp, colours and legend stops.
import { describe, expect, it } from 'vitest';
import type { ScoredToken } from '../../../webview/contract';
import { BINS, binClass, binColour, binOf, clampFor, heatmapCss, legendStops, tokenValue } from '../../../webview/review/heatmap';

describe('heatmap scale', () => {
  it('puts values into bins clamped at ±clamp, 0 near zero', () => {
    expect(binOf(0.4, 0.4)).toBe(BINS);
    expect(binOf(4, 0.4)).toBe(BINS);
    expect(binOf(-0.4, 0.4)).toBe(-BINS);
    expect(binOf(-0.2, 0.4)).toBe(-BINS / 2);
    expect(binOf(0.01, 0.4)).toBe(0);
    expect(binOf(Number.NaN, 0.4)).toBe(0);
    expect(binOf(1, 0)).toBe(0);
  });

  it('takes the clamp from the 95th percentile of magnitudes, so one outlier does not wash out the rest', () => {
    const values = [...Array.from({ length: 99 }, (_, i) => (i % 2 ? 0.1 : -0.1)), 50];
    expect(clampFor(values)).toBe(0.1);
    expect(clampFor([])).toBe(1);
    expect(clampFor([0, 0])).toBe(0.001);
  });

  it('diverges blue (pushed up) / orange (pushed down), with alpha by bin; log-probs on a sequential blue', () => {
    expect(binColour(BINS, 'light')).toBe('rgba(33, 102, 172, 0.6)');
    expect(binColour(-BINS, 'light')).toBe('rgba(230, 97, 1, 0.6)');
    expect(binColour(-BINS / 2, 'dark')).toBe('rgba(230, 97, 1, 0.375)');
    expect(binClass('reward', 3)).toBe('pf-heat-div-p3');
    expect(binClass('reward', -8)).toBe('pf-heat-div-n8');
    expect(binClass('policy', -2)).toBe('pf-heat-seq-n2');
    expect(binClass('reward', 0)).toBe('');
    expect(binClass('off', 5)).toBe('');
    expect(binClass('mask', 8)).toBe('pf-heat-mask');
    const css = heatmapCss('light');
    expect(css).toContain(`.pf-heat-div-p8 { background-color: ${binColour(8, 'light')}; }`);
    expect(css).toContain(`.pf-heat-seq-n8 { background-color: ${binColour(8, 'light')}; }`);
  });

  it('paints by the mode\'s value and lists legend stops from -clamp to +clamp', () => {
    const t: ScoredToken = { text: 'x', start: 0, end: 1, logpPolicy: -0.5, logpRef: -1.5, reward: 0.1, inLoss: false };
    expect(tokenValue(t, 'reward')).toBe(0.1);
    expect(tokenValue(t, 'policy')).toBe(-0.5);
    expect(tokenValue(t, 'reference')).toBe(-1.5);
    expect(tokenValue(t, 'mask')).toBeUndefined();
    expect(tokenValue({ ...t, inLoss: true }, 'mask')).toBe(1);
    expect(tokenValue(t, 'off')).toBeUndefined();
    const stops = legendStops('reward', 0.4, 'light');
    expect(stops.map((s) => Number(s.value.toFixed(6)))).toEqual([-0.4, -0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3, 0.4]);
    expect(stops[4].colour).toBe('transparent');
    expect(legendStops('off', 1, 'light')).toEqual([]);
  });
});
