// The targets of issues 7 and 20: ratios of lambda-rapid to the official 4.x native client (same
// Node, same run, paired by round), and for cold start also to the minimal node:http loop.
// Managed Instances scenarios are named `<id>@<concurrency>` (benchmark/run.mjs).
export const TARGETS = [
  { scenario: 'echo-100B', metric: 'cpuUs', label: '100 B echo: client CPU / invocation', op: '<=', target: 0.5 },
  { scenario: 'echo-100B', metric: 'rtUs', label: '100 B echo: round trip', op: '<=', target: 0.5 },
  { scenario: 'echo-100B', metric: 'ips', label: '100 B echo: throughput', op: '>=', target: 2 },
  { scenario: 'echo-1MiB', metric: 'ips', label: '1 MiB echo: throughput', op: '>=', target: 2 },
  { scenario: 'echo-1MiB', metric: 'rssMiB', label: '1 MiB echo: peak RSS', op: '<=', target: 1 },
  { scenario: 'stream', metric: 'ips', label: 'streaming: throughput', op: '>=', target: 1.5 },
  { scenario: 'stream', metric: 'ttfbUs', label: 'streaming: time to first byte', op: '<=', target: 0.5 },
  { scenario: 'cold-start', metric: 'firstGetMs', label: 'cold start: spawn → first GET', op: '<=', target: 0.85 },
  { scenario: 'cold-start', metric: 'firstGetMs', label: 'cold start vs node:http loop', op: '<=', target: 1, baseline: 'node-http' },
  { scenario: 'log-text', metric: 'ips', label: 'logging-heavy TEXT: throughput', op: '>=', target: 1.5 },
  { scenario: 'log-json', metric: 'ips', label: 'logging-heavy JSON: throughput', op: '>=', target: 1.5 },
  { scenario: 'cold-start-sdk', metric: 'firstResponseMs', label: 'cold start, AWS SDK: first response', op: '<=', target: 0.7 },
  { scenario: 'mc-io@64', metric: 'ips', label: 'MI 10 ms await, C=64: throughput', op: '>=', target: 1 },
  { scenario: 'mc-io@64', metric: 'rssMiB', label: 'MI 10 ms await, C=64: peak RSS', op: '<=', target: 0.5 },
  { scenario: 'mc-io@256', metric: 'ips', label: 'MI 10 ms await, C=256: throughput', op: '>=', target: 2 },
  { scenario: 'mc-cpu@32', metric: 'ips', label: 'MI 1 ms CPU, C=32: throughput', op: '>=', target: 1.2 },
  { scenario: 'mc-cpu@32', metric: 'rtP99Us', label: 'MI 1 ms CPU, C=32: p99 latency', op: '<=', target: 1 },
];

export const met = (t, ratio) => (t.op === '<=' ? ratio <= t.target : ratio >= t.target);
