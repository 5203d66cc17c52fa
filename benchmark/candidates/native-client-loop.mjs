// Diagnostic candidate (not in the default set): the bare minimum JS loop over lambda-rapid's
// native RuntimeClient, with no handler loading, context, logging or event-loop contract.
// The gap between this and `node index.mjs` is the cost of the runtime's JS; the gap between
// this and the raw Rust loop is the cost of crossing into JS and back.
// BENCH_LOOP=sync (default): next() then respondSync(); BENCH_LOOP=then-next: respondThenNext().
// BENCH_CLIENT=lean: the same loop over BenchLeanClient, a transport without an HTTP library
// (next() as an AsyncTask, respondSync() on the JS thread): what our JS loop would cost if the
// HTTP layer cost nothing more than the protocol.
import native from '../../lib/native.mjs';

const endpoint = process.env.AWS_LAMBDA_RUNTIME_API;
const client = process.env.BENCH_CLIENT === 'lean' ? new native.BenchLeanClient(endpoint) : new native.RuntimeClient(endpoint);
const echo = (body) => JSON.stringify(JSON.parse(body));

if (process.env.BENCH_LOOP === 'all-sync') {
  // BenchLeanClient only: GET next blocks the JS thread (no hop; not a valid runtime design,
  // since the event loop stops between invocations, but the floor for one that wakes the JS
  // thread straight from the socket).
  for (;;) {
    const inv = client.nextSync();
    client.respondSync(inv.requestId, echo(inv.body));
  }
} else if (process.env.BENCH_LOOP === 'then-next') {
  let inv = await client.next();
  for (;;) inv = await client.respondThenNext(inv.requestId, echo(inv.body));
} else {
  for (;;) {
    const inv = await client.next();
    client.respondSync(inv.requestId, echo(inv.body));
  }
}
