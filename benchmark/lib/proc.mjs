// What the kernel knows about a runtime process: CPU time and peak memory, read from /proc
// (Linux only) by the parent, so that the runtime itself does nothing extra.
import fs from 'node:fs';

/**
 * CPU time used so far by every thread of `pid`, in nanoseconds: the sum of the first field
 * of /proc/<pid>/task/<tid>/schedstat (exact runtime, not 10 ms ticks). Falls back to
 * utime + stime from /proc/<pid>/stat when schedstat is not available.
 */
export function cpuNs(pid) {
  try {
    let total = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended between readdir and read: its time is lost, a few µs at most.
      }
    }
    if (total > 0) return total;
  } catch {
    // No schedstat: use the coarse counters.
  }
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e9) / 100;
}

/** Peak resident set size (VmHWM) of `pid`, in KiB. */
export function peakRssKiB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : NaN;
}
