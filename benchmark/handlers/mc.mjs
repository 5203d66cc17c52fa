// Managed Instances handlers: many invocations overlap in one process, and every answer names
// its own event and request id, so the bench server can tell an answer posted for the wrong
// invocation (benchmark/lib/scenarios.mjs, benchmark/server/src/lib.rs `closed_loop`).
const answer = (event, context) => ({ id: event.id, requestId: context.awsRequestId });

// I/O-bound: waits 10 ms (a downstream call) and answers.
export const io = async (event, context) => {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return answer(event, context);
};

// CPU-bound: a fixed amount of synchronous work, about 1 ms on the benchmark machine (Node 24),
// the same work for every runtime (a busy-wait on the clock would do less work when descheduled).
let sink = 0;
export const cpu = async (event, context) => {
  let x = 1;
  for (let i = 0; i < 800_000; i++) x = (Math.imul(x, 31) + i) ^ (x >>> 7);
  sink ^= x;
  return answer(event, context);
};
export const sinkValue = () => sink;
