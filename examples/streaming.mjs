// A response-streaming handler, written to the official API (awslambda.streamifyResponse).
// Each write reaches the caller as it happens, not when the handler returns.
/* global awslambda */
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.setContentType('text/plain');
  const parts = event.parts ?? 3;
  for (let i = 1; i <= parts; i++) {
    responseStream.write(`part ${i} of ${parts}\n`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  responseStream.end();
});
