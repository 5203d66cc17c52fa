//! The runtimes serving one function (`--instances N`), and which of them gets an invocation:
//! the layer the fronts (invoke_api.rs, http_front.rs) queue on.

use std::sync::{Arc, Mutex};

use super::runtime_api;
use super::state::{Invocation, Shared};

/// The runtimes serving one function (`--instances N`): each has its own queue, supervisor and
/// runtime process, as each Lambda execution environment is separate. The lock makes choosing
/// an instance and queueing on it one step: two requests arriving at once on two connections
/// would otherwise both see the same idle instance and queue behind each other.
pub struct Instances(pub Vec<Arc<Shared>>, Mutex<()>);

impl Instances {
    pub fn new(all: Vec<Arc<Shared>>) -> Self {
        Instances(all, Mutex::new(()))
    }

    /// Queues `inv` on the least busy instance; false once the emulator is stopping.
    pub fn enqueue(&self, inv: Invocation) -> bool {
        let _dispatching = self.1.lock().unwrap_or_else(|p| p.into_inner());
        runtime_api::enqueue(self.pick(), inv)
    }

    /// The instance for the next invocation: the least busy, the first among equals, so that a
    /// lone caller keeps reaching the same warm runtime (as Lambda reuses an idle environment)
    /// and concurrent callers spread over the others (as Lambda scales out).
    fn pick(&self) -> &Arc<Shared> {
        let first = &self.0[0];
        if self.0.len() == 1 {
            return first;
        }
        let mut best = first;
        let mut best_load = first.load();
        for s in &self.0[1..] {
            if best_load == 0 {
                break;
            }
            let load = s.load();
            if load < best_load {
                best = s;
                best_load = load;
            }
        }
        best
    }
}
