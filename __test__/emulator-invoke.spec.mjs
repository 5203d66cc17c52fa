// The invoke API of `lambda-rapid serve`, driven over HTTP as a user would: answers, function
// errors, init errors, queued concurrent invocations, bad requests, the Lambda environment.
import { test, describe, before, after } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import { serve, invokeHttp, INVOKE_PATH, EMULATOR_FIXTURES } from './helpers/emulator.mjs';

describe('a function served by lambda-rapid serve', () => {
  let emu;
  before(async () => {
    emu = await serve('app.echo', ['--memory', '256', '--function-name', 'demo-fn', '--env', 'EXTRA=yes']);
  });
  after(() => emu.stop());

  test('an event comes back as the function answered it, with the request id', async () => {
    const res = await emu.invoke({ hello: 'world' });
    assert.equal(res.status, 200);
    assert.equal(res.functionError, null);
    assert.deepEqual(res.json.event, { hello: 'world' });
    assert.equal(res.headers.get('x-amzn-requestid'), res.json.requestId);
    assert.match(res.json.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('a caller\'s X-Amzn-RequestId in raw UTF-8 reaches the function and comes back', async () => {
    // fetch() sends a header value's chars as bytes: the UTF-8 bytes of `id-été`, unencoded.
    const id = 'id-été';
    const res = await emu.invoke({}, { headers: { 'X-Amzn-RequestId': Buffer.from(id).toString('latin1') } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.requestId, id);
    assert.equal(Buffer.from(res.headers.get('x-amzn-requestid'), 'latin1').toString(), id);
  });

  test('the runtime runs with the full Lambda environment', async () => {
    const { json } = await emu.invoke({});
    const env = json.env;
    assert.equal(env.AWS_LAMBDA_FUNCTION_NAME, 'demo-fn');
    assert.equal(json.functionName, 'demo-fn');
    assert.equal(env.AWS_LAMBDA_FUNCTION_VERSION, '$LATEST');
    assert.equal(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '256');
    assert.equal(String(json.memoryLimitInMB), '256');
    assert.equal(env.AWS_LAMBDA_LOG_GROUP_NAME, '/aws/lambda/demo-fn');
    assert.match(env.AWS_LAMBDA_LOG_STREAM_NAME, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.equal(env.AWS_REGION, 'us-east-1');
    assert.equal(env.AWS_EXECUTION_ENV, `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`);
    assert.equal(env._HANDLER, 'app.echo');
    assert.equal(env.LAMBDA_TASK_ROOT, EMULATOR_FIXTURES);
    assert.match(env.AWS_LAMBDA_RUNTIME_API, /^127\.0\.0\.1:\d+$/);
    assert.equal(env.TZ, ':UTC');
    assert.equal(env.EXTRA, 'yes');
  });

  test('an empty body invokes with {} as Lambda does', async () => {
    const res = await invokeHttp(emu.port, '', { raw: true });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.event, {});
  });

  test('concurrent invocations are queued and all answered by the one runtime', async () => {
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => emu.invoke({ n })));
    assert.deepEqual(answers.map((a) => a.json.event.n), [1, 2, 3, 4, 5]);
    assert.equal(new Set(answers.map((a) => a.json.pid)).size, 1);
    assert.equal(new Set(answers.map((a) => a.json.requestId)).size, 5);
  });

  test('a malformed JSON event gets Lambda\'s 400 and the server keeps serving', async () => {
    const res = await invokeHttp(emu.port, '{"unterminated', { raw: true });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-amzn-errortype'), 'InvalidRequestContentException');
    assert.match(res.json.message, /^Could not parse request body into json/);
    assert.equal((await emu.invoke({ after: 1 })).json.event.after, 1);
  });

  test('an unknown path gets 404 and a wrong method 405, and the server keeps serving', async () => {
    const res = await invokeHttp(emu.port, {}, { path: '/2015-03-31/functions/function/nope' });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    const get = await invokeHttp(emu.port, undefined, { method: 'GET' });
    assert.equal(get.status, 405);
    assert.equal((await emu.invoke({ after: 2 })).json.event.after, 2);
  });

  test('an event over 6 MB gets Lambda\'s 413 and the server keeps serving', async () => {
    const big = JSON.stringify({ data: 'x'.repeat(6 * 1024 * 1024) });
    const res = await invokeHttp(emu.port, big, { raw: true });
    assert.equal(res.status, 413);
    assert.equal(res.headers.get('x-amzn-errortype'), 'RequestEntityTooLargeException');
    assert.equal(res.json.message, 'Request must be smaller than 6291456 bytes for the InvokeFunction operation');
    assert.equal((await emu.invoke({ after: 3 })).json.event.after, 3);
  });


  test('trace id and client context reach the runtime', async () => {
    const res = await invokeHttp(emu.port, {}, {
      headers: { 'X-Amzn-Trace-Id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1' },
    });
    assert.equal(res.status, 200);
    const bad = await invokeHttp(emu.port, {}, { headers: { 'X-Amz-Client-Context': '%%%not base64' } });
    assert.equal(bad.status, 400);
  });
});

describe('function errors', () => {
  let emu;
  before(async () => { emu = await serve('app.fail'); });
  after(() => emu.stop());

  test('a thrown error comes back as the error JSON with X-Amz-Function-Error: Unhandled', async () => {
    const res = await emu.invoke({ input: 42 });
    assert.equal(res.status, 200);
    assert.equal(res.functionError, 'Unhandled');
    assert.equal(res.json.errorType, 'TypeError');
    assert.equal(res.json.errorMessage, 'bad input: 42');
    assert.ok(Array.isArray(res.json.trace));
  });

  test('the runtime survives a function error (same process answers next)', async () => {
    const a = await emu.invoke({ input: 1 });
    const b = await emu.invoke({ input: 2 });
    assert.equal(a.json.errorMessage, 'bad input: 1');
    assert.equal(b.json.errorMessage, 'bad input: 2');
    assert.doesNotMatch(emu.output, /INIT_REPORT/);
  });
});

describe('init errors', () => {
  test('a module that fails to load: the invoke gets the init error, every time', async () => {
    const emu = await serve('init-error.handler');
    try {
      for (let i = 0; i < 2; i++) {
        const res = await emu.invoke({});
        assert.equal(res.status, 200);
        assert.equal(res.functionError, 'Unhandled');
        assert.equal(res.json.errorMessage, 'cannot initialise: missing configuration');
      }
      assert.match(emu.output, /INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error/);
    } finally {
      await emu.stop();
    }
  });

  test('a handler that does not exist: Runtime.HandlerNotFound reaches the caller', async () => {
    const emu = await serve('app.missing');
    try {
      const res = await emu.invoke({});
      assert.equal(res.functionError, 'Unhandled');
      assert.equal(res.json.errorType, 'Runtime.HandlerNotFound');
    } finally {
      await emu.stop();
    }
  });

  test('a module that does not exist: Runtime.ImportModuleError reaches the caller', async () => {
    const emu = await serve('nosuchmodule.handler');
    try {
      const res = await emu.invoke({});
      assert.equal(res.functionError, 'Unhandled');
      assert.equal(res.json.errorType, 'Runtime.ImportModuleError');
    } finally {
      await emu.stop();
    }
  });
});

describe('logs', () => {
  test("the function's logs and Lambda's START/END/REPORT lines pass through", async () => {
    const emu = await serve('app.logs');
    try {
      const res = await emu.invoke({ tag: 'tag-123' });
      const id = res.headers.get('x-amzn-requestid');
      await emu.waitForOutput(new RegExp(`REPORT RequestId: ${id}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB`));
      assert.match(emu.output, new RegExp(`START RequestId: ${id} Version: \\$LATEST`));
      assert.match(emu.output, new RegExp(`${id}\\tINFO\\tlog line from the function tag-123`));
      assert.match(emu.output, new RegExp(`END RequestId: ${id}`));
    } finally {
      await emu.stop();
    }
  });

  test('--log-format JSON: the runtime gets AWS_LAMBDA_LOG_FORMAT and platform lines are JSON', async () => {
    const emu = await serve('app.echo', ['--log-format', 'json', '--log-level', 'warn']);
    try {
      const res = await emu.invoke({});
      assert.equal(res.json.env.AWS_LAMBDA_LOG_FORMAT, 'JSON');
      assert.equal(res.json.env.AWS_LAMBDA_LOG_LEVEL, 'WARN');
      const m = await emu.waitForOutput(/^\{"record":.*"type":"platform\.report".*$|^\{.*"type":"platform\.report".*\}$/m);
      const line = JSON.parse(m[0]);
      assert.equal(line.record.requestId, res.json.requestId);
    } finally {
      await emu.stop();
    }
  });
});

test('an event just under 6 MB is delivered whole', async () => {
  const emu = await serve('app.size');
  try {
    const data = 'y'.repeat(6 * 1024 * 1024 - 100);
    const res = await emu.invoke({ data });
    assert.equal(res.status, 200, res.text.slice(0, 200));
    assert.equal(res.json.length, data.length);
  } finally {
    await emu.stop();
  }
});

test('--max-concurrency N gives the runtime AWS_LAMBDA_MAX_CONCURRENCY (Managed Instances)', async () => {
  const emu = await serve('app.echo', ['--max-concurrency', '4']);
  try {
    const { json } = await emu.invoke({});
    assert.equal(json.env.AWS_LAMBDA_MAX_CONCURRENCY, '4');
    const answers = await Promise.all([1, 2, 3].map((n) => emu.invoke({ n })));
    assert.deepEqual(answers.map((a) => a.json.event.n), [1, 2, 3]);
  } finally {
    await emu.stop();
  }
});

test('the invoke path accepts any function name, as the AWS SDK builds it', async () => {
  const emu = await serve('app.echo');
  try {
    const res = await invokeHttp(emu.port, { via: 'sdk' }, { path: '/2015-03-31/functions/my-function/invocations' });
    assert.equal(res.json.event.via, 'sdk');
    const dry = await invokeHttp(emu.port, {}, { path: INVOKE_PATH, headers: { 'X-Amz-Invocation-Type': 'DryRun' } });
    assert.equal(dry.status, 204);
  } finally {
    await emu.stop();
  }
});
