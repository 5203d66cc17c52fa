// The physical limit of the transport: lambda-rapid's own Rust Runtime API client in a loop
// that echoes every event back (next -> response -> next ...), with no JavaScript per
// invocation. Only meaningful for the echo scenarios and cold start.
import native from '../../lib/native.mjs';

native.benchRawEchoLoop(process.env.AWS_LAMBDA_RUNTIME_API);
