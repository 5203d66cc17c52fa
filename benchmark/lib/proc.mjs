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

/** `pid` and every process below it (a runtime may start helpers; Managed Instances threads are tasks of `pid`). */
export function processTree(pid) {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      for (const tid of fs.readdirSync(`/proc/${all[i]}/task`)) {
        const kids = fs.readFileSync(`/proc/${all[i]}/task/${tid}/children`, 'utf8').trim();
        if (kids) all.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // The process ended meanwhile, or the kernel has no children file: count what was found.
    }
  }
  return all;
}

/** CPU time of the whole process tree under `pid`, in nanoseconds (see cpuNs). */
export function treeCpuNs(pid) {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += cpuNs(p);
    } catch {
      // ended between the listing and the read
    }
  }
  return total;
}

/** Peak RSS of the whole process tree under `pid`, in KiB: the sum of each process's VmHWM. */
export function treePeakRssKiB(pid) {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += peakRssKiB(p);
    } catch {
      // ended between the listing and the read
    }
  }
  return total;
}
