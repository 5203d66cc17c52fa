// The README's chart: for each target, lambda-rapid's advantage over the official 4.x native
// client (higher is better: a "≤ 0.5×" target becomes "≥ 2× less"), on a log scale, with the
// target as a tick and the raw Rust loop (the transport's limit) as a marker where it applies.
// Hand-written SVG, no dependencies.
import { ratioFor, targetRows } from './report.mjs';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function svgChart(results, { title }) {
  const rows = targetRows(results);
  const advantage = (t, r) => (t.op === '<=' ? 1 / r : r);
  const W = 760;
  const left = 250;
  const right = 70;
  const rowH = 26;
  const top = 48;
  const H = top + rows.length * rowH + 40;
  const lo = Math.log10(0.25);
  const hi = Math.log10(16);
  const x = (v) => Math.round(10 * (left + ((Math.log10(Math.min(Math.max(v, 0.25), 16)) - lo) / (hi - lo)) * (W - left - right))) / 10;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${W / 2}" y="34" text-anchor="middle" fill="#555">advantage over the official client, log scale (higher is better); | = target, ◆ = raw Rust loop</text>`);
  for (const v of [0.25, 0.5, 1, 2, 4, 8, 16]) {
    out.push(`<line x1="${x(v)}" y1="${top - 4}" x2="${x(v)}" y2="${H - 30}" stroke="${v === 1 ? '#333' : '#ddd'}"/>`);
    out.push(`<text x="${x(v)}" y="${H - 16}" text-anchor="middle" fill="#555">${v}×</text>`);
  }
  rows.forEach((t, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(t.label)}</text>`);
    const goal = advantage(t, t.target);
    if (Number.isFinite(t.ratio)) {
      const a = advantage(t, t.ratio);
      const [x0, x1] = [x(Math.min(1, a)), x(Math.max(1, a))];
      const fill = t.ok ? '#2e9d4a' : '#d9534f';
      out.push(`<rect x="${x0}" y="${y + 4}" width="${Math.max(1, Math.round(10 * (x1 - x0)) / 10)}" height="${rowH - 10}" fill="${fill}"/>`);
      out.push(`<text x="${x(Math.max(1, a)) + 4}" y="${y + 15}" fill="#333">${a.toFixed(2)}×</text>`);
    } else {
      out.push(`<text x="${x(1) + 4}" y="${y + 15}" fill="#999">not measured</text>`);
    }
    out.push(`<line x1="${x(goal)}" y1="${y + 1}" x2="${x(goal)}" y2="${y + rowH - 3}" stroke="#000" stroke-width="2"/>`);
    const raw = ratioFor(results, t.scenario, t.metric, 'raw-rust', t.baseline ?? 'official').ratio;
    if (Number.isFinite(raw)) {
      const rx = x(advantage(t, raw));
      const cy = y + rowH / 2 - 1;
      out.push(`<path d="M${rx} ${cy - 5} L${rx + 5} ${cy} L${rx} ${cy + 5} L${rx - 5} ${cy} Z" fill="#555"/>`);
    }
  });
  out.push('</svg>');
  return out.join('\n');
}
