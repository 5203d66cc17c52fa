// A response-streaming handler writing four chunks, yielding to the event loop between them
// (as a handler producing data over time does), so time to first byte can differ from the
// time to the whole response.
const CHUNKS = ['{"part":1,"data":"aaaaaaaaaaaaaaaa"}\n', '{"part":2,"data":"bbbbbbbbbbbbbbbb"}\n',
  '{"part":3,"data":"cccccccccccccccc"}\n', '{"part":4,"data":"dddddddddddddddd"}\n'];

const tick = () => new Promise((resolve) => setImmediate(resolve));

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  for (const chunk of CHUNKS) {
    responseStream.write(chunk);
    await tick();
  }
  responseStream.end();
});
