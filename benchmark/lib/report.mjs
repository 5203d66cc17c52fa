// Turns the collected samples into Markdown: the targets with paired ratios, one table of
// medians per scenario, the cold starts, and what was skipped and why.
import { median, pairedRatio } from './stats.mjs';
import { TARGETS, met } from './targets.mjs';

const f = (x, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const fx = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');

/** results: { [scenarioId]: { [candidateId]: [trial metrics per round] } } */
export function ratioFor(results, scenario, metric, candidate = 'lambda-rapid', baseline = 'official') {
  const a = results[scenario]?.[candidate];
  const b = results[scenario]?.[baseline];
  if (!a || !b) return { ratio: NaN, n: 0 };
  return pairedRatio(a.map((m) => m?.[metric]), b.map((m) => m?.[metric]));
}

export function targetRows(results) {
  return TARGETS.map((t) => {
    const r = ratioFor(results, t.scenario, t.metric, 'lambda-rapid', t.baseline ?? 'official');
    return { ...t, ratio: r.ratio, ok: Number.isFinite(r.ratio) ? met(t, r.ratio) : null };
  });
}

const METRICS = [
  ['rtUs', 'round trip p50 µs', 0],
  ['rtP99Us', 'p99 µs', 0],
  ['ips', 'invocations/s', 0],
  ['cpuUs', 'client CPU µs/inv', 0],
  ['rssMiB', 'peak RSS MiB', 1],
];

// Managed Instances: latency is queued -> answer read, in ms (it includes the wait for a GET).
const CLOSED_LOOP_METRICS = [
  ['ips', 'invocations/s', 0],
  ['rtUs', 'latency p50 ms', 1, 1e-3],
  ['rtP99Us', 'p99 ms', 1, 1e-3],
  ['cpuUs', 'CPU µs/inv', 0],
  ['serverCpuUs', 'Runtime API CPU µs/inv', 0],
  ['rssMiB', 'peak RSS MiB', 1],
];

export function markdown({ meta, results, candidates, scenarios, colds = [], errors }) {
  const out = [];
  const names = Object.fromEntries(candidates.map((c) => [c.id, c.label]));
  out.push(`Node ${meta.node}, ${meta.cpu} (${meta.cores} cores), ${meta.mode} run (${meta.rounds} rounds, candidates interleaved), ` +
    `${meta.date}, ${meta.seconds} s, load average ${meta.load}.`);
  out.push('');
  out.push('| target (lambda-rapid vs official 4.x native) | goal | measured | |');
  out.push('|---|---|---|---|');
  for (const t of targetRows(results)) {
    const goal = `${t.op === '<=' ? '≤' : '≥'} ${t.target}×`;
    const verdict = t.ok === null ? 'not measured' : t.ok ? 'met' : '**missed**';
    out.push(`| ${t.label} | ${goal} | ${fx(t.ratio)} | ${verdict} |`);
  }
  out.push('');
  for (const s of scenarios) {
    const byCand = results[s.id];
    if (!byCand) continue;
    const metrics = s.concurrency ? CLOSED_LOOP_METRICS
      : s.streaming ? [...METRICS.slice(0, 2), ['ttfbUs', 'TTFB p50 µs', 0], ...METRICS.slice(2)] : METRICS;
    const how = s.concurrency ? `${meta.counts[s.id]} invocations per window, ${s.concurrency} outstanding, Node ${meta.nodes?.[s.node] ?? meta.node}`
      : `${meta.counts[s.id]} invocations per trial`;
    out.push(`**${s.title}** (${s.id}; ${how})`);
    out.push('');
    out.push(`| candidate | ${metrics.map((m) => m[1]).join(' | ')} | throughput vs official |`);
    out.push(`|---|${metrics.map(() => '---:').join('|')}|---:|`);
    for (const [cid, trials] of Object.entries(byCand)) {
      const cells = metrics.map(([k, , d, scale = 1]) => f(median(trials.map((t) => t?.[k])) * scale, d));
      const r = cid === 'official' ? '1.00×' : fx(ratioFor(results, s.id, 'ips', cid).ratio);
      out.push(`| ${names[cid]} | ${cells.join(' | ')} | ${r} |`);
    }
    out.push('');
  }
  for (const s of colds) {
    const cold = results[s.id];
    if (!cold) continue;
    out.push(`**${s.title}** (${s.id}: \`${s.handler}\`; ${meta.counts[s.id]} fresh processes per candidate, first event queued before the spawn)`);
    out.push('');
    out.push('| candidate | spawn → first GET ms | spawn → first response ms | peak RSS MiB | first GET vs official | first response vs official |');
    out.push('|---|---:|---:|---:|---:|---:|');
    for (const [cid, samples] of Object.entries(cold)) {
      const r = (metric) => (cid === 'official' ? '1.00×' : fx(ratioFor(results, s.id, metric, cid).ratio));
      out.push(`| ${names[cid]} | ${f(median(samples.map((x) => x?.firstGetMs)), 1)} | ` +
        `${f(median(samples.map((x) => x?.firstResponseMs)), 1)} | ${f(median(samples.map((x) => x?.rssMiB)), 1)} | ${r('firstGetMs')} | ${r('firstResponseMs')} |`);
    }
    out.push('');
  }
  const skipped = candidates.filter((c) => c.skip);
  if (skipped.length || errors.length) {
    out.push('Not measured:');
    out.push('');
    for (const c of skipped) out.push(`- ${c.label}: skipped, ${c.skip}`);
    for (const e of errors) out.push(`- ${e}`);
    out.push('');
  }
  return out.join('\n');
}
