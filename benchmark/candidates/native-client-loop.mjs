// Diagnostic candidate (not in the default set): the bare minimum JS loop over lambda-rapid's
// native RuntimeClient, with no handler loading, context, logging or event-loop contract.
// The gap between this and `node index.mjs` is the cost of the runtime's JS; the gap between
// this and the raw Rust loop is the cost of crossing into JS and back.
// BENCH_LOOP=sync (default): next() then respondSync(); BENCH_LOOP=then-next: respondThenNext().
import native from '../../lib/native.mjs';

const client = new native.RuntimeClient(process.env.AWS_LAMBDA_RUNTIME_API);
const echo = (body) => JSON.stringify(JSON.parse(body));

if (process.env.BENCH_LOOP === 'then-next') {
  let inv = await client.next();
  for (;;) inv = await client.respondThenNext(inv.requestId, echo(inv.body));
} else {
  for (;;) {
    const inv = await client.next();
    client.respondSync(inv.requestId, echo(inv.body));
  }
}
