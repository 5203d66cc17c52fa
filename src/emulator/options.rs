//! The checks of the options a caller passes to `startEmulator`, each refusing a bad value with
//! the message the caller sees; what is not given is Lambda's default ([`EmulatorConfig`]).

use std::time::Duration;

use super::config::{EmulatorConfig, Front, StartError};
use super::http_event::EventFormat;
use super::platform_log::LogFormat;

fn refuse(message: String) -> StartError {
    StartError { message }
}

/// `TEXT` (the default) or `JSON`, in any case.
pub fn log_format(name: Option<&str>) -> Result<LogFormat, StartError> {
    match name.map(str::to_ascii_uppercase).as_deref() {
        None | Some("TEXT") => Ok(LogFormat::Text),
        Some("JSON") => Ok(LogFormat::Json),
        Some(other) => Err(refuse(format!("log format must be TEXT or JSON, not {other}"))),
    }
}

/// The invoke API's port: 9000 by default, 0 for a free one.
pub fn invoke_port(port: Option<u32>) -> Result<u16, StartError> {
    match port {
        None => Ok(EmulatorConfig::default().invoke_port),
        Some(p) => u16::try_from(p).map_err(|_| refuse(format!("port {p} is out of range"))),
    }
}

/// The function's timeout, in seconds: positive and finite.
pub fn timeout(seconds: Option<f64>) -> Result<Duration, StartError> {
    match seconds {
        None => Ok(EmulatorConfig::default().timeout),
        Some(s) if s.is_finite() && s > 0.0 => Ok(Duration::from_secs_f64(s)),
        Some(s) => Err(refuse(format!(
            "timeout must be a positive number of seconds, not {s}"
        ))),
    }
}

/// The invoke API, or with `http`, plain HTTP turned into events of that format.
pub fn front(http: Option<&str>) -> Result<Front, StartError> {
    match http {
        None => Ok(Front::InvokeApi),
        Some(name) => EventFormat::from_name(name)
            .map(Front::Http)
            .ok_or_else(|| refuse(format!("http event format must be url or apigw-v1, not {name}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_lambdas_and_bad_values_are_refused_with_a_reason() {
        assert_eq!(log_format(None).unwrap(), LogFormat::Text);
        assert_eq!(log_format(Some("json")).unwrap(), LogFormat::Json);
        assert!(log_format(Some("xml"))
            .unwrap_err()
            .message
            .contains("TEXT or JSON, not XML"));
        assert_eq!(invoke_port(None).unwrap(), 9000);
        assert_eq!(invoke_port(Some(0)).unwrap(), 0);
        assert!(invoke_port(Some(70_000))
            .unwrap_err()
            .message
            .contains("out of range"));
        assert_eq!(timeout(None).unwrap(), Duration::from_secs(3));
        assert_eq!(timeout(Some(0.5)).unwrap(), Duration::from_millis(500));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(timeout(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(front(None).unwrap(), Front::InvokeApi);
        assert_eq!(
            front(Some("apigw-v1")).unwrap(),
            Front::Http(EventFormat::ApiGatewayV1)
        );
        assert!(front(Some("grpc"))
            .unwrap_err()
            .message
            .contains("url or apigw-v1, not grpc"));
    }
}
