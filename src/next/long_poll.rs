//! The client's long-poll thread: blocking Runtime API calls that end in GET next, one after
//! the other, started on first use (and again, should it have died).
//!
//! Its own thread, not libuv's pool: at exit Node joins every pool thread, and a GET the
//! Runtime API holds open would keep `process.exit()` from ever returning (a pending `next()`
//! hung exit indefinitely before this). It also leaves libuv's 4 threads to fs, dns, crypto
//! and zlib between invocations.

use std::sync::{mpsc, Mutex};

pub type Job = Box<dyn FnOnce() + Send>;

pub struct LongPollThread {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
}

impl LongPollThread {
    pub fn new() -> Self {
        LongPollThread {
            jobs: Mutex::new(None),
        }
    }

    /// Runs `job` on the thread, starting it on first use (or again, should it have died).
    /// Fails only when no thread can be started.
    pub fn run(&self, job: Job) -> Result<(), String> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let job = match jobs.as_ref() {
            Some(tx) => match tx.send(job) {
                Ok(()) => return Ok(()),
                Err(mpsc::SendError(job)) => job,
            },
            None => job,
        };
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("lambda-rapid-next".into())
            .spawn(move || {
                for job in rx {
                    // A panic must not take the next calls with it (it would be a bug: the
                    // client's functions return errors, they do not panic).
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .map_err(|e| format!("cannot start the Runtime API thread: {e}"))?;
        tx.send(job)
            .map_err(|_| "the Runtime API thread ended at start".to_string())?;
        *jobs = Some(tx);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn jobs_run_in_order_on_one_thread_and_a_panic_does_not_stop_the_next() {
        let thread = LongPollThread::new();
        let (tx, rx) = mpsc::channel();
        for i in 0..3 {
            let tx = tx.clone();
            thread
                .run(Box::new(move || {
                    let name = std::thread::current().name().map(str::to_owned);
                    tx.send((i, name)).expect("send");
                    if i == 1 {
                        panic!("a bug in one call");
                    }
                }))
                .expect("runs");
        }
        let got: Vec<_> = (0..3)
            .map(|_| rx.recv_timeout(Duration::from_secs(10)).expect("ran"))
            .collect();
        let name = Some("lambda-rapid-next".to_string());
        assert_eq!(got, vec![(0, name.clone()), (1, name.clone()), (2, name)]);
    }
}
