// A streamed answer behind a Function URL (invoke mode RESPONSE_STREAM): the status and headers
// go first, then each line as it is written. Run it and watch the lines arrive one by one:
//
//   npx lambda-rapid serve stream.handler --task-root examples/web --http
//   curl -N http://127.0.0.1:9000/
/* global awslambda */
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const out = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
  for (let i = 1; i <= 5; i++) {
    out.write(`line ${i} of 5 at ${new Date().toISOString()}\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  out.end();
});
