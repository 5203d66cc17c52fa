//! The HTTP front's two translations, pure and tested without sockets: an HTTP request into the
//! event Lambda's HTTP integrations send, and the function's answer back into an HTTP response.
//!
//! - `EventFormat::FunctionUrl`: the Function URL payload, which is API Gateway HTTP API's
//!   payload format 2.0 (`rawPath`, `rawQueryString`, `cookies`, lower-cased comma-joined
//!   `headers`, `requestContext.http`).
//! - `EventFormat::ApiGatewayV1`: the REST API Lambda proxy integration (payload format 1.0:
//!   `multiValueHeaders`, `multiValueQueryStringParameters`, a `/{proxy+}` resource).
//!
//! docs/emulator.md lists each field against AWS's documentation.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::http::percent_decode;
use super::platform_log::iso_time;
use crate::base64;

/// The content type of a streamed answer that starts with an HTTP prelude
/// (`awslambda.HttpResponseStream.from`): prelude JSON, 8 NUL bytes, then the body.
pub const HTTP_INTEGRATION_CONTENT_TYPE: &str = "application/vnd.awslambda.http-integration-response";
pub const PRELUDE_DELIMITER: [u8; 8] = [0; 8];

/// Which of Lambda's HTTP event shapes the front sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    /// Function URL / API Gateway HTTP API, payload format 2.0.
    FunctionUrl,
    /// API Gateway REST API, Lambda proxy integration (payload format 1.0).
    ApiGatewayV1,
}

impl EventFormat {
    /// The CLI's names: `url` (also `v2`), `apigw-v1` (also `v1`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "url" | "v2" | "function-url" | "apigw-v2" => Some(EventFormat::FunctionUrl),
            "apigw-v1" | "v1" | "rest" => Some(EventFormat::ApiGatewayV1),
            _ => None,
        }
    }
}

/// What the front knows of one HTTP request.
#[derive(Debug)]
pub struct HttpRequest<'a> {
    pub method: &'a str,
    /// The request target as received: `/path?query`.
    pub target: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub source_ip: &'a str,
    /// The port the client connected to (`x-forwarded-port`).
    pub local_port: u16,
    pub request_id: &'a str,
    pub time: SystemTime,
}

/// An HTTP answer: status, header fields in order (repeats allowed), body.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The event for `request`, as JSON bytes.
pub fn event(format: EventFormat, request: &HttpRequest<'_>) -> Vec<u8> {
    match format {
        EventFormat::FunctionUrl => function_url_event(request),
        EventFormat::ApiGatewayV1 => rest_api_event(request),
    }
}

fn split_target(target: &str) -> (&str, &str) {
    // The absolute form a proxy sends (`http://host/path?q`): the path starts after the authority.
    let target = match target.split_once("://") {
        Some((_, rest)) if !target.starts_with('/') => rest.find('/').map_or("/", |i| &rest[i..]),
        _ => target,
    };
    match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target, ""),
    }
}

/// The query's parameters, decoded, in order of first appearance: `(name, values)`.
fn query_parameters(raw_query: &str) -> Vec<(String, Vec<String>)> {
    let mut params: Vec<(String, Vec<String>)> = Vec::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k), percent_decode(v));
        match params.iter_mut().find(|(name, _)| *name == k) {
            Some((_, values)) => values.push(v),
            None => params.push((k, vec![v])),
        }
    }
    params
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether a body of this content type travels as text: the content types AWS's HTTP
/// integrations pass as text; everything else (and anything that is not UTF-8) is base64.
fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence.starts_with("text/")
        || matches!(
            essence.as_str(),
            "application/json" | "application/javascript" | "application/xml" | "application/graphql"
        )
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
}

/// `(body, isBase64Encoded)`; `None` for an empty body.
fn body_field(headers: &[(String, String)], body: &[u8]) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    match std::str::from_utf8(body) {
        Ok(text) if is_text(header(headers, "content-type")) => (Some(text.to_string()), false),
        _ => (Some(base64::encode(body)), true),
    }
}

fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// `12/Mar/2020:19:03:58 +0000`, the time format of `requestContext.time`/`requestTime`.
fn clf_time(t: SystemTime) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // iso_time: `2020-03-12T19:03:58.123Z`.
    let iso = iso_time(t);
    let month = iso
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{}/{}/{}:{} +0000",
        iso.get(8..10).unwrap_or("01"),
        month,
        iso.get(0..4).unwrap_or("1970"),
        iso.get(11..19).unwrap_or("00:00:00")
    )
}

const API_ID: &str = "local";

/// JSON written straight into bytes: an event is built on every request, and building it as a
/// `serde_json::Value` tree cost 7 µs (Function URL) and 11 µs (REST API) per event on this VM, a
/// map node and a `String` per field; written directly, 2.5–3.5 µs. Strings go through serde_json's
/// escaper.
struct JsonWriter {
    out: Vec<u8>,
    /// No member written yet in the innermost object or array.
    first: bool,
}

impl JsonWriter {
    fn new(capacity: usize) -> Self {
        JsonWriter {
            out: Vec::with_capacity(capacity),
            first: true,
        }
    }

    fn string(&mut self, s: &str) {
        // Writing a &str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.out, s);
    }

    fn separate(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
    }

    fn key(&mut self, k: &str) {
        self.separate();
        self.string(k);
        self.out.push(b':');
    }

    fn open(&mut self, bracket: u8) {
        self.out.push(bracket);
        self.first = true;
    }

    fn close(&mut self, bracket: u8) {
        self.out.push(bracket);
        self.first = false;
    }

    fn field_str(&mut self, k: &str, v: &str) {
        self.key(k);
        self.string(v);
    }

    fn field_raw(&mut self, k: &str, v: &str) {
        self.key(k);
        self.out.extend_from_slice(v.as_bytes());
    }
}

/// The Function URL event (payload format 2.0). Headers are lower-cased and repeats joined with
/// commas; the `Cookie` header becomes `cookies`; `queryStringParameters`, `cookies` and `body`
/// are absent when empty, as on AWS.
fn function_url_event(r: &HttpRequest<'_>) -> Vec<u8> {
    let (raw_path, raw_query) = split_target(r.target);
    let mut headers: Vec<(String, String)> = Vec::with_capacity(r.headers.len() + 3);
    let mut cookies: Vec<&str> = Vec::new();
    for (name, value) in r.headers {
        if name.eq_ignore_ascii_case("cookie") {
            cookies.extend(value.split(';').map(str::trim).filter(|c| !c.is_empty()));
            continue;
        }
        match headers.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(value);
            }
            None => headers.push((name.to_ascii_lowercase(), value.clone())),
        }
    }
    // What the Function URL's front end adds.
    for (name, value) in [
        ("x-forwarded-for", r.source_ip.to_string()),
        ("x-forwarded-proto", "http".to_string()),
        ("x-forwarded-port", r.local_port.to_string()),
    ] {
        if !headers.iter().any(|(k, _)| k == name) {
            headers.push((name.to_string(), value));
        }
    }
    let domain = header(r.headers, "host").unwrap_or("localhost");
    let domain_prefix = domain.split(['.', ':']).next().unwrap_or("");
    let (body, is_base64) = body_field(r.headers, r.body);

    let mut j = JsonWriter::new(768 + r.body.len() * 4 / 3);
    j.open(b'{');
    j.field_str("version", "2.0");
    j.field_str("routeKey", "$default");
    j.field_str("rawPath", raw_path);
    j.field_str("rawQueryString", raw_query);
    if !cookies.is_empty() {
        j.key("cookies");
        j.open(b'[');
        for c in &cookies {
            j.separate();
            j.string(c);
        }
        j.close(b']');
    }
    j.key("headers");
    j.open(b'{');
    for (k, v) in &headers {
        j.field_str(k, v);
    }
    j.close(b'}');
    let params = query_parameters(raw_query);
    if !params.is_empty() {
        j.key("queryStringParameters");
        j.open(b'{');
        for (k, v) in &params {
            j.field_str(k, &v.join(","));
        }
        j.close(b'}');
    }
    j.key("requestContext");
    j.open(b'{');
    j.field_str("accountId", "anonymous");
    j.field_str("apiId", API_ID);
    j.field_raw("authentication", "null");
    j.field_str("domainName", domain);
    j.field_str("domainPrefix", domain_prefix);
    j.key("http");
    j.open(b'{');
    j.field_str("method", r.method);
    j.field_str("path", &percent_decode(raw_path));
    j.field_str("protocol", "HTTP/1.1");
    j.field_str("sourceIp", r.source_ip);
    j.field_str("userAgent", header(r.headers, "user-agent").unwrap_or(""));
    j.close(b'}');
    j.field_str("requestId", r.request_id);
    j.field_str("routeKey", "$default");
    j.field_str("stage", "$default");
    j.field_str("time", &clf_time(r.time));
    j.field_raw("timeEpoch", &epoch_ms(r.time).to_string());
    j.close(b'}');
    if let Some(b) = &body {
        j.field_str("body", b);
    }
    j.field_raw("isBase64Encoded", if is_base64 { "true" } else { "false" });
    j.close(b'}');
    j.out
}

const STAGE: &str = "local";

/// The REST API proxy event (payload format 1.0) of a `ANY /{proxy+}` resource: `headers` and
/// `queryStringParameters` hold the last value of each name, the `multiValue*` fields all of
/// them; absent parts are `null`, as on AWS.
fn rest_api_event(r: &HttpRequest<'_>) -> Vec<u8> {
    let (raw_path, raw_query) = split_target(r.target);
    let path = percent_decode(raw_path);
    // Names keep their case, as API Gateway passes them; a repeat (any case) joins the first.
    let mut headers: Vec<(&str, Vec<&str>)> = Vec::with_capacity(r.headers.len());
    for (name, value) in r.headers {
        match headers.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            Some((_, values)) => values.push(value),
            None => headers.push((name, vec![value])),
        }
    }
    let params = query_parameters(raw_query);
    let proxy = path.trim_start_matches('/');
    let (body, is_base64) = body_field(r.headers, r.body);
    let user_agent = header(r.headers, "user-agent");
    let time = clf_time(r.time);

    let mut j = JsonWriter::new(1024 + r.body.len() * 4 / 3);
    j.open(b'{');
    j.field_str("resource", "/{proxy+}");
    j.field_str("path", &path);
    j.field_str("httpMethod", r.method);
    for multi in [false, true] {
        j.key(if multi { "multiValueHeaders" } else { "headers" });
        if headers.is_empty() {
            j.out.extend_from_slice(b"null");
            continue;
        }
        j.open(b'{');
        for (k, values) in &headers {
            j.key(k);
            if multi {
                j.open(b'[');
                for v in values {
                    j.separate();
                    j.string(v);
                }
                j.close(b']');
            } else {
                j.string(values.last().copied().unwrap_or_default());
            }
        }
        j.close(b'}');
    }
    for multi in [false, true] {
        j.key(if multi {
            "multiValueQueryStringParameters"
        } else {
            "queryStringParameters"
        });
        if params.is_empty() {
            j.out.extend_from_slice(b"null");
            continue;
        }
        j.open(b'{');
        for (k, values) in &params {
            j.key(k);
            if multi {
                j.open(b'[');
                for v in values {
                    j.separate();
                    j.string(v);
                }
                j.close(b']');
            } else {
                j.string(values.last().map_or("", String::as_str));
            }
        }
        j.close(b'}');
    }
    j.key("pathParameters");
    if proxy.is_empty() {
        j.out.extend_from_slice(b"null");
    } else {
        j.open(b'{');
        j.field_str("proxy", proxy);
        j.close(b'}');
    }
    j.field_raw("stageVariables", "null");
    j.key("requestContext");
    j.open(b'{');
    j.field_str("accountId", "123456789012");
    j.field_str("apiId", API_ID);
    j.field_str("domainName", header(r.headers, "host").unwrap_or("localhost"));
    j.field_str("extendedRequestId", r.request_id);
    j.field_str("httpMethod", r.method);
    j.key("identity");
    j.open(b'{');
    for k in [
        "accessKey",
        "accountId",
        "caller",
        "cognitoAuthenticationProvider",
        "cognitoAuthenticationType",
        "cognitoIdentityId",
        "cognitoIdentityPoolId",
        "principalOrgId",
    ] {
        j.field_raw(k, "null");
    }
    j.field_str("sourceIp", r.source_ip);
    j.field_raw("user", "null");
    match user_agent {
        Some(ua) => j.field_str("userAgent", ua),
        None => j.field_raw("userAgent", "null"),
    }
    j.field_raw("userArn", "null");
    j.close(b'}');
    j.field_str("path", &format!("/{STAGE}{path}"));
    j.field_str("protocol", "HTTP/1.1");
    j.field_str("requestId", r.request_id);
    j.field_str("requestTime", &time);
    j.field_raw("requestTimeEpoch", &epoch_ms(r.time).to_string());
    j.field_str("resourceId", API_ID);
    j.field_str("resourcePath", "/{proxy+}");
    j.field_str("stage", STAGE);
    j.close(b'}');
    match &body {
        Some(b) => j.field_str("body", b),
        None => j.field_raw("body", "null"),
    }
    j.field_raw("isBase64Encoded", if is_base64 { "true" } else { "false" });
    j.close(b'}');
    j.out
}

/// Header fields the front frames itself: the function's values would contradict the framing.
fn is_framing(name: &str) -> bool {
    ["content-length", "transfer-encoding", "connection", "keep-alive"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
}

fn header_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `headers`, `multiValueHeaders` and `cookies` of a response object (or a streaming prelude).
fn response_headers(obj: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |name: &str, value: String| {
        // Header values with CR or LF would split the response: refused, as AWS refuses them.
        if !is_framing(name)
            && !name.is_empty()
            && !value.contains(['\r', '\n'])
            && !name.contains(['\r', '\n', ':'])
        {
            out.push((name.to_string(), value));
        }
    };
    if let Some(Value::Object(h)) = obj.get("headers") {
        for (k, v) in h {
            if let Some(v) = header_value(v) {
                push(k, v);
            }
        }
    }
    if let Some(Value::Object(h)) = obj.get("multiValueHeaders") {
        for (k, vs) in h {
            // A name in both: `multiValueHeaders` wins, as with API Gateway.
            if let Value::Array(vs) = vs {
                out.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
                for v in vs.iter().filter_map(header_value) {
                    out.push((k.clone(), v));
                }
            }
        }
    }
    if let Some(Value::Array(cookies)) = obj.get("cookies") {
        for c in cookies.iter().filter_map(header_value) {
            out.push(("Set-Cookie".into(), c));
        }
    }
    out
}

fn status_of(v: Option<&Value>) -> Option<u16> {
    let n = match v? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    u16::try_from(n).ok().filter(|s| (100..=599).contains(s))
}

fn json_answer(status: u16, body: Vec<u8>) -> HttpAnswer {
    HttpAnswer {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body,
    }
}

/// What API Gateway answers when the function's answer is not a proxy response.
fn malformed_proxy_response() -> HttpAnswer {
    json_answer(502, br#"{"message":"Internal server error"}"#.to_vec())
}

/// The HTTP answer for a function's buffered result. `function_error`: the function failed and
/// `payload` is Lambda's error JSON (shown, with 502, as a Function URL answers).
pub fn answer(format: EventFormat, payload: &[u8], function_error: bool) -> HttpAnswer {
    if function_error {
        return json_answer(502, payload.to_vec());
    }
    let parsed: Option<Value> = serde_json::from_slice(payload).ok();
    let obj = match parsed {
        Some(Value::Object(o)) if format == EventFormat::ApiGatewayV1 || o.contains_key("statusCode") => o,
        // Function URL: a result that is not a response object is the JSON body of a 200.
        _ if format == EventFormat::FunctionUrl => return json_answer(200, payload.to_vec()),
        _ => return malformed_proxy_response(),
    };
    let status = match obj.get("statusCode") {
        None if format == EventFormat::ApiGatewayV1 => 200,
        v => match status_of(v) {
            Some(s) => s,
            None => return malformed_proxy_response(),
        },
    };
    let is_base64 = matches!(obj.get("isBase64Encoded"), Some(Value::Bool(true)));
    let body = match obj.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if is_base64 => match base64::decode(s) {
            Some(b) => b,
            None => return malformed_proxy_response(),
        },
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    };
    HttpAnswer {
        status,
        headers: response_headers(&obj),
        body,
    }
}

/// Status and header fields of a streamed answer's prelude (`HttpResponseStream.from`); `None`
/// when it is not a JSON object with a valid (or no) `statusCode`.
pub fn prelude(json: &[u8]) -> Option<(u16, Vec<(String, String)>)> {
    let Value::Object(obj) = serde_json::from_slice(json).ok()? else {
        return None;
    };
    let status = match obj.get("statusCode") {
        None | Some(Value::Null) => 200,
        v => status_of(v)?,
    };
    Some((status, response_headers(&obj)))
}

/// Where the prelude ends: the index of the first 8-NUL delimiter in `buf`.
pub fn prelude_end(buf: &[u8]) -> Option<usize> {
    buf.windows(PRELUDE_DELIMITER.len())
        .position(|w| w == PRELUDE_DELIMITER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn request<'a>(
        method: &'a str,
        target: &'a str,
        h: &'a [(String, String)],
        body: &'a [u8],
    ) -> HttpRequest<'a> {
        HttpRequest {
            method,
            target,
            headers: h,
            body,
            source_ip: "127.0.0.1",
            local_port: 9000,
            request_id: "rid",
            // 2020-03-12T19:03:58.390Z
            time: UNIX_EPOCH + Duration::from_millis(1_584_039_838_390),
        }
    }

    fn parse(bytes: Vec<u8>) -> Value {
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn function_url_event_follows_payload_format_2() {
        let h = headers(&[
            ("Host", "127.0.0.1:9000"),
            ("User-Agent", "agent"),
            ("X-Multi", "a"),
            ("x-multi", "b"),
            ("Cookie", "c1=v1; c2=v2"),
            ("Content-Type", "application/json"),
        ]);
        let e = parse(event(
            EventFormat::FunctionUrl,
            &request("POST", "/my%20path?p1=v1&p1=v2&p2=a%2Bb+c", &h, b"{\"a\":1}"),
        ));
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["routeKey"], "$default");
        assert_eq!(e["rawPath"], "/my%20path");
        assert_eq!(e["rawQueryString"], "p1=v1&p1=v2&p2=a%2Bb+c");
        assert_eq!(e["cookies"], json!(["c1=v1", "c2=v2"]));
        assert_eq!(e["headers"]["x-multi"], "a,b");
        assert_eq!(e["headers"]["user-agent"], "agent");
        assert!(e["headers"].get("cookie").is_none());
        assert_eq!(e["headers"]["x-forwarded-for"], "127.0.0.1");
        assert_eq!(e["queryStringParameters"], json!({"p1": "v1,v2", "p2": "a+b+c"}));
        let http = &e["requestContext"]["http"];
        assert_eq!(http["method"], "POST");
        assert_eq!(http["path"], "/my path");
        assert_eq!(http["protocol"], "HTTP/1.1");
        assert_eq!(http["sourceIp"], "127.0.0.1");
        assert_eq!(http["userAgent"], "agent");
        assert_eq!(e["requestContext"]["time"], "12/Mar/2020:19:03:58 +0000");
        assert_eq!(e["requestContext"]["timeEpoch"], 1_584_039_838_390u64);
        assert_eq!(e["requestContext"]["requestId"], "rid");
        assert_eq!(e["body"], "{\"a\":1}");
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn function_url_event_omits_what_the_request_lacks_and_base64s_binary_bodies() {
        let e = parse(event(EventFormat::FunctionUrl, &request("GET", "/", &[], b"")));
        for absent in ["cookies", "queryStringParameters", "body"] {
            assert!(e.get(absent).is_none(), "{absent}");
        }
        let h = headers(&[("content-type", "application/octet-stream")]);
        let e = parse(event(
            EventFormat::FunctionUrl,
            &request("PUT", "/", &h, &[0, 1, 255]),
        ));
        assert_eq!(e["isBase64Encoded"], true);
        assert_eq!(e["body"], base64::encode(&[0, 1, 255]));
    }

    #[test]
    fn rest_api_event_follows_the_proxy_integration_format() {
        let h = headers(&[("Accept", "a"), ("accept", "b"), ("Content-Type", "text/plain")]);
        let e = parse(event(
            EventFormat::ApiGatewayV1,
            &request("POST", "/pets/1?q=1&q=2&r=x", &h, b"hi"),
        ));
        assert_eq!(e["resource"], "/{proxy+}");
        assert_eq!(e["path"], "/pets/1");
        assert_eq!(e["httpMethod"], "POST");
        assert_eq!(e["headers"]["Accept"], "b");
        assert_eq!(e["multiValueHeaders"]["Accept"], json!(["a", "b"]));
        assert_eq!(e["queryStringParameters"], json!({"q": "2", "r": "x"}));
        assert_eq!(
            e["multiValueQueryStringParameters"],
            json!({"q": ["1", "2"], "r": ["x"]})
        );
        assert_eq!(e["pathParameters"], json!({"proxy": "pets/1"}));
        assert_eq!(e["stageVariables"], Value::Null);
        assert_eq!(e["requestContext"]["resourcePath"], "/{proxy+}");
        assert_eq!(e["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(e["body"], "hi");
        let e = parse(event(EventFormat::ApiGatewayV1, &request("GET", "/", &[], b"")));
        assert_eq!(e["queryStringParameters"], Value::Null);
        assert_eq!(e["pathParameters"], Value::Null);
        assert_eq!(e["body"], Value::Null);
    }

    #[test]
    fn a_response_object_is_mapped_back() {
        let a = answer(
            EventFormat::FunctionUrl,
            br#"{"statusCode":201,"headers":{"content-type":"text/html","x-n":5,"Content-Length":"99"},
                "cookies":["a=1","b=2; Path=/"],"body":"<p>hi</p>"}"#,
            false,
        );
        assert_eq!(a.status, 201);
        assert_eq!(a.body, b"<p>hi</p>");
        assert_eq!(
            a.headers,
            headers(&[
                ("content-type", "text/html"),
                ("x-n", "5"),
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2; Path=/")
            ])
        );
        let a = answer(
            EventFormat::ApiGatewayV1,
            br#"{"statusCode":200,"headers":{"a":"x"},"multiValueHeaders":{"a":["1","2"]},"isBase64Encoded":true,"body":"AAH/"}"#,
            false,
        );
        assert_eq!(a.body, vec![0, 1, 255]);
        assert_eq!(a.headers, headers(&[("a", "1"), ("a", "2")]));
    }

    #[test]
    fn other_results_errors_and_malformed_responses() {
        for payload in [&b"\"hello\""[..], b"42", b"{\"a\":1}", b"null"] {
            let a = answer(EventFormat::FunctionUrl, payload, false);
            assert_eq!((a.status, a.body.as_slice()), (200, payload));
            assert_eq!(a.headers, headers(&[("Content-Type", "application/json")]));
        }
        let err = br#"{"errorType":"Error","errorMessage":"boom"}"#;
        let a = answer(EventFormat::FunctionUrl, err, true);
        assert_eq!((a.status, a.body.as_slice()), (502, &err[..]));
        assert_eq!(answer(EventFormat::ApiGatewayV1, b"\"hello\"", false).status, 502);
        assert_eq!(
            answer(EventFormat::FunctionUrl, br#"{"statusCode":"x"}"#, false).status,
            502
        );
        assert_eq!(
            answer(EventFormat::ApiGatewayV1, br#"{"body":"ok"}"#, false).status,
            200
        );
    }

    #[test]
    fn a_streaming_prelude_gives_status_and_headers() {
        let raw = br#"{"statusCode":206,"headers":{"content-type":"text/plain"},"cookies":["s=1"]}"#;
        let mut buf = raw.to_vec();
        buf.extend_from_slice(&PRELUDE_DELIMITER);
        buf.extend_from_slice(b"body");
        assert_eq!(prelude_end(&buf), Some(raw.len()));
        let (status, h) = prelude(&buf[..raw.len()]).unwrap();
        assert_eq!(status, 206);
        assert_eq!(
            h,
            headers(&[("content-type", "text/plain"), ("Set-Cookie", "s=1")])
        );
        assert_eq!(prelude(b"{}").unwrap().0, 200);
        assert!(prelude(b"[1]").is_none());
    }

    #[test]
    fn the_absolute_form_of_a_request_target_gives_its_path() {
        assert_eq!(split_target("http://h:1/a/b?x=1"), ("/a/b", "x=1"));
        assert_eq!(split_target("http://h:1"), ("/", ""));
        assert_eq!(split_target("/p?u=http://x/y"), ("/p", "u=http://x/y"));
    }
}
