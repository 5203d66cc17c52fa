// The physical limit of the transport: lambda-rapid's own Rust Runtime API client in a loop
// that echoes every event back (next -> response -> next ...), with no JavaScript per
// invocation. Only meaningful for the echo scenarios and cold start.
// BENCH_LEAN=1: the same loop without an HTTP library (one write per request, no connection
// probing), to show what the HTTP client itself costs.
import native from '../../lib/native.mjs';

native.benchRawEchoLoop(process.env.AWS_LAMBDA_RUNTIME_API, process.env.BENCH_LEAN === '1');
