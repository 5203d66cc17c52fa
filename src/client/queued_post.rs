//! Response POSTs the JS thread does not wait for: on Managed Instances a worker serves many
//! invocations at once, and a POST that blocks its JS thread until the Runtime API answers holds
//! all of them for that round trip (one worker could not go past ~3,800 invocations/s at 64
//! outstanding, docs/managed-instances.md). A POST from libuv's pool does not block, but costs
//! two thread hops and a promise per response (CPU per invocation 100 µs against 60 µs).
//!
//! Here the JS thread hands the response to a thread of the client's own and goes on: no
//! promise, no call back into JS when the POST succeeds (the usual case). The thread sends the
//! POSTs one after another on the client's keep-alive connections; a POST that fails is passed
//! to `failed`, on that thread, with its request id.

use std::sync::mpsc;
use std::sync::Arc;
use std::thread;

use super::RuntimeApiClient;
use crate::error::RuntimeApiError;

struct Job {
    request_id: String,
    body: Vec<u8>,
}

pub struct QueuedPoster {
    jobs: mpsc::Sender<Job>,
}

impl QueuedPoster {
    /// Starts the posting thread. It ends when the poster is dropped, after the POSTs queued.
    pub fn start(
        client: Arc<RuntimeApiClient>,
        failed: impl Fn(String, RuntimeApiError) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("lambda-rapid-post".into())
            .spawn(move || {
                for job in queue {
                    if let Err(e) = client.post_response(&job.request_id, &job.body) {
                        failed(job.request_id, e);
                    }
                }
            })?;
        Ok(QueuedPoster { jobs })
    }

    /// Queues the POST of `request_id`'s response; false when the posting thread has ended.
    pub fn post(&self, request_id: String, body: Vec<u8>) -> bool {
        self.jobs.send(Job { request_id, body }).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc::channel;
    use std::time::Duration;

    /// A Runtime API that answers each POST with `status(path)`, and reports (path, body).
    fn runtime_api(status: fn(&str) -> u16) -> (String, mpsc::Receiver<(String, String)>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = listener.local_addr().expect("addr").to_string();
        let (seen, requests) = channel();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let seen = seen.clone();
                thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                    let mut writer = stream;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let path = line.split(' ').nth(1).unwrap_or("").to_string();
                        let mut length = 0;
                        loop {
                            let mut header = String::new();
                            reader.read_line(&mut header).expect("header");
                            if header == "\r\n" {
                                break;
                            }
                            if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                                length = v.trim().parse().expect("length");
                            }
                        }
                        let mut body = vec![0; length];
                        reader.read_exact(&mut body).expect("body");
                        let code = status(&path);
                        let answer = format!("{{\"status\":{code}}}");
                        write!(
                            writer,
                            "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                            answer.len()
                        )
                        .expect("answer");
                        let _ = seen.send((path, String::from_utf8_lossy(&body).into_owned()));
                    }
                });
            }
        });
        (endpoint, requests)
    }

    #[test]
    fn queued_posts_reach_the_runtime_api_in_order_and_only_failures_come_back() {
        let (endpoint, requests) = runtime_api(|path| if path.contains("/refused/") { 400 } else { 202 });
        let client = Arc::new(RuntimeApiClient::new(&endpoint).expect("client"));
        let (failed_tx, failures) = channel();
        let poster = QueuedPoster::start(client, move |id, e| {
            let _ = failed_tx.send((id, e));
        })
        .expect("start");
        assert!(poster.post("a".into(), b"{\"n\":1}".to_vec()));
        assert!(poster.post("refused".into(), b"{\"n\":2}".to_vec()));
        assert!(poster.post("b".into(), b"{\"n\":3}".to_vec()));
        let wait = Duration::from_secs(10);
        let got: Vec<_> = (0..3)
            .map(|_| requests.recv_timeout(wait).expect("a POST"))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "/2018-06-01/runtime/invocation/a/response".into(),
                    "{\"n\":1}".into()
                ),
                (
                    "/2018-06-01/runtime/invocation/refused/response".into(),
                    "{\"n\":2}".into()
                ),
                (
                    "/2018-06-01/runtime/invocation/b/response".into(),
                    "{\"n\":3}".into()
                ),
            ]
        );
        let (id, error) = failures.recv_timeout(wait).expect("the refused POST's failure");
        assert_eq!(id, "refused");
        assert_eq!(error.status, Some(400));
        assert!(
            failures.recv_timeout(Duration::from_millis(200)).is_err(),
            "only that one failed"
        );
    }

    #[test]
    fn an_unreachable_runtime_api_fails_each_queued_post_with_its_id() {
        // A port nothing listens on: bound, then closed.
        let endpoint = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .to_string();
        let client = Arc::new(RuntimeApiClient::new(&endpoint).expect("client"));
        let (failed_tx, failures) = channel();
        let poster = QueuedPoster::start(client, move |id, e| {
            let _ = failed_tx.send((id, e));
        })
        .expect("start");
        poster.post("x".into(), b"{}".to_vec());
        let (id, error) = failures.recv_timeout(Duration::from_secs(10)).expect("a failure");
        assert_eq!(id, "x");
        assert_eq!(error.code.as_str(), "ERR_RUNTIME_API_UNREACHABLE");
    }
}
