//! The accept loop of every listener (the invoke API's, each generation's Runtime API): one
//! thread per connection, each registered so that stopping can close it.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::state::Shared;

/// Accepts connections until `stop` is set (the stopper then connects once to wake `accept`),
/// serving each on its own thread. Every connection is registered so `stop` can close it.
pub fn accept_loop<F>(listener: TcpListener, stop: &AtomicBool, shared: &Arc<Shared>, serve: F)
where
    F: Fn(&Arc<Shared>, TcpStream) + Send + Sync + Clone + 'static,
{
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // EMFILE and friends: back off instead of spinning.
            Err(_) => {
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let conn_id = shared.register_connection(&stream);
        let shared = shared.clone();
        let serve = serve.clone();
        let spawned = thread::Builder::new()
            .name("lambda-rapid-conn".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                serve(&shared, stream);
                shared.unregister_connection(conn_id);
            });
        if spawned.is_err() {
            thread::sleep(Duration::from_millis(10));
        }
    }
}
