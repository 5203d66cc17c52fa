#!/usr/bin/env node
// Copies benchmark/results/latest.md (and the chart) into README.md's Performance section,
// without running the benchmark again. `--quick` takes latest-quick instead.
import { updateReadme } from './lib/readme.mjs';

updateReadme(process.argv.includes('--quick') ? 'latest-quick' : 'latest');
console.error('bench: README.md updated');
