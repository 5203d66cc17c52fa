// Order statistics. Medians everywhere: the machines are noisy and a mean follows the outliers.

export function quantile(values, q) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);

/**
 * Paired ratios: `a[i] / b[i]` for the samples taken in the same round (so that both saw the
 * same machine state), then their median.
 */
export function pairedRatio(a, b) {
  const ratios = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i]) && b[i] !== 0) ratios.push(a[i] / b[i]);
  }
  return { ratio: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), n: ratios.length };
}
