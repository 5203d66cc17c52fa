//! Lambda's platform log lines (START, END, REPORT, INIT_REPORT, the timeout line), printed to
//! the emulator's stdout between the function's own output, in the text or JSON log format.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

pub struct PlatformLog {
    format: LogFormat,
    enabled: bool,
    to_stderr: bool,
}

/// Figures for a REPORT line.
pub struct Report<'a> {
    pub request_id: &'a str,
    pub duration: Duration,
    pub memory_mb: u32,
    pub max_memory_mb: Option<u64>,
    pub init_duration: Option<Duration>,
    /// SnapStart: from the restore to the runtime's first `GET next` (its after-restore hooks).
    pub restore_duration: Option<Duration>,
    pub status: &'a str,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl PlatformLog {
    pub fn new(format: LogFormat, enabled: bool, to_stderr: bool) -> Self {
        PlatformLog {
            format,
            enabled,
            to_stderr,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn emit(&self, text: String, json_type: &str, record: serde_json::Value) {
        if !self.enabled {
            return;
        }
        let line = match self.format {
            LogFormat::Text => text,
            LogFormat::Json => {
                json!({ "time": iso_time(SystemTime::now()), "type": json_type, "record": record })
                    .to_string()
            }
        };
        // One write per line, so lines never interleave with the runtime's own output mid-line.
        let line = format!("{line}\n");
        if self.to_stderr {
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        } else {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
    }

    pub fn start(&self, request_id: &str, version: &str) {
        self.emit(
            format!("START RequestId: {request_id} Version: {version}"),
            "platform.start",
            json!({ "requestId": request_id, "version": version }),
        );
    }

    pub fn timed_out(&self, request_id: &str, timeout_secs: f64) {
        self.emit(
            format!(
                "{} {request_id} Task timed out after {timeout_secs:.2} seconds",
                iso_time(SystemTime::now())
            ),
            "platform.timeout",
            json!({ "requestId": request_id, "message": format!("Task timed out after {timeout_secs:.2} seconds") }),
        );
    }

    pub fn end_and_report(&self, r: &Report<'_>) {
        self.emit(
            format!("END RequestId: {}", r.request_id),
            "platform.runtimeDone",
            json!({ "requestId": r.request_id, "status": r.status }),
        );
        let billed = ms(r.duration).ceil().max(1.0);
        let max_used = r
            .max_memory_mb
            .map(|m| m.to_string())
            .unwrap_or_else(|| "-".into());
        let mut text = format!(
            "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {billed:.0} ms\tMemory Size: {} MB\tMax Memory Used: {max_used} MB\t",
            r.request_id,
            ms(r.duration),
            r.memory_mb
        );
        let mut metrics = json!({
            "durationMs": (ms(r.duration) * 100.0).round() / 100.0,
            "billedDurationMs": billed,
            "memorySizeMB": r.memory_mb,
            "maxMemoryUsedMB": r.max_memory_mb,
        });
        if let Some(init) = r.init_duration {
            text.push_str(&format!("Init Duration: {:.2} ms\t", ms(init)));
            metrics["initDurationMs"] = json!((ms(init) * 100.0).round() / 100.0);
        }
        if let Some(restore) = r.restore_duration {
            text.push_str(&format!("Restore Duration: {:.2} ms\t", ms(restore)));
            metrics["restoreDurationMs"] = json!((ms(restore) * 100.0).round() / 100.0);
        }
        self.emit(
            text,
            "platform.report",
            json!({ "requestId": r.request_id, "status": r.status, "metrics": metrics }),
        );
    }

    /// SnapStart: an after-restore hook failed (`POST restore/error`).
    pub fn restore_report(&self, duration: Duration, error_type: &str) {
        self.emit(
            format!(
                "RESTORE_REPORT Restore Duration: {:.2} ms\tStatus: error\tError Type: {error_type}",
                ms(duration)
            ),
            "platform.restoreReport",
            json!({ "status": "error", "errorType": error_type,
                    "metrics": { "durationMs": (ms(duration) * 100.0).round() / 100.0 } }),
        );
    }

    pub fn init_report(&self, duration: Duration, error_type: &str) {
        self.emit(
            format!(
                "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {error_type}",
                ms(duration)
            ),
            "platform.initReport",
            json!({ "initializationType": "on-demand", "phase": "init", "status": "error", "errorType": error_type,
                    "metrics": { "durationMs": (ms(duration) * 100.0).round() / 100.0 } }),
        );
    }
}

/// `2026-11-28T09:23:26.123Z` from a system time (UTC, millisecond precision).
pub fn iso_time(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm), valid for the whole proleptic Gregorian range.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_time_formats_known_instants() {
        assert_eq!(iso_time(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_857_806_123);
        assert_eq!(iso_time(t), "2026-11-28T09:23:26.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso_time(leap), "2000-02-29T00:00:00.000Z");
    }
}
