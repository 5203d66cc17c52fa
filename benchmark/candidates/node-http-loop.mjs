// The baseline: the smallest honest Runtime API loop a Node.js developer would write with
// node:http (keep-alive agent, one connection) and nothing else. No log formatting, no
// context beyond the request id and deadline. Supports awslambda.streamifyResponse just
// enough for the streaming scenario (a chunked POST with the streaming response mode).
// node:http comes through createRequire: on Node 22 an ESM `import 'node:http'` costs about
// 30 ms more at start-up, and the baseline should be the fast way to write it.
import { createRequire } from 'node:module';
import path from 'node:path';

const http = createRequire(import.meta.url)('node:http');

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime/invocation/';
const STREAMING = Symbol('streaming');

globalThis.awslambda = {
  streamifyResponse(fn) {
    fn[STREAMING] = true;
    return fn;
  },
};

function request(method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: url, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function streamResponse(id) {
  let req;
  const done = new Promise((resolve, reject) => {
    req = http.request({
      host, port, method: 'POST', path: `${base}${id}/response`, agent,
      headers: { 'Lambda-Runtime-Function-Response-Mode': 'streaming', 'Transfer-Encoding': 'chunked' },
    }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
  });
  return { stream: req, done };
}

const [file, name] = process.env._HANDLER.split('.');
const handler = (await import(path.join(process.env.LAMBDA_TASK_ROOT, `${file}.mjs`)))[name];

for (;;) {
  const next = await request('GET', `${base}next`);
  const id = next.headers['lambda-runtime-aws-request-id'];
  const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
  const context = { awsRequestId: id, getRemainingTimeInMillis: () => deadline - Date.now() };
  try {
    const event = JSON.parse(next.body);
    if (handler[STREAMING]) {
      const { stream, done } = streamResponse(id);
      await handler(event, stream, context);
      await done;
    } else {
      const result = await handler(event, context);
      await request('POST', `${base}${id}/response`, JSON.stringify(result));
    }
  } catch (e) {
    const body = JSON.stringify({ errorType: e?.name ?? 'Error', errorMessage: String(e?.message ?? e) });
    await request('POST', `${base}${id}/error`, body, { 'Lambda-Runtime-Function-Error-Type': 'Runtime.Error' });
  }
}
