// What the runtime serves from a Runtime API that does not answer as AWS's does, measured
// against the official clients 3.3.0 and 4.0.2 (docs/reliability.md has the table): header
// values in raw UTF-8 or with invalid bytes, a request id sent twice, a missing or odd deadline
// (cargo-lambda's emulator sends `Lambda-Runtime-Deadline-Ms: 600000`), no function ARN. The one
// answer that cannot be served, an event without a request id, ends the process with a record
// that names it; an answer cut off inside its head is reported as such. End to end: a spawned
// `node index.mjs` against the raw-socket Runtime API (helpers/raw-runtime-api.mjs).
import { test } from './helpers/node-test.mjs';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startRawRuntimeApi } from './helpers/raw-runtime-api.mjs';
import { spawnRuntime, FIXTURES } from './helpers/spawn-runtime.mjs';
import { APP, EXEC_ENV, MODES } from './fixtures/runtime/harness.mjs';

const T = { timeout: 20000 };
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:f';

/** An answer to GET next with an empty event, no Content-Type, a deadline a minute away and
 * this ARN, unless `fields` (as api.invocation takes them) say otherwise. */
const answer = (api, fields) =>
  api.invocation({ deadline: Date.now() + 60_000, arn: ARN, contentType: null, body: '{}', ...fields });

async function start(t, { mode, handler = 'esm.context', taskRoot = APP, env = {} }) {
  const api = await startRawRuntimeApi();
  const rt = spawnRuntime({ endpoint: api.endpoint, handler, taskRoot, env: { AWS_EXECUTION_ENV: EXEC_ENV[mode], ...env } });
  t.after(async () => {
    await rt.kill();
    await api.close();
  });
  return { api, rt };
}

/** Serves `fields` (see `answer`) and resolves with the POST made for it (and the body parsed, if JSON). */
async function serve(api, fields) {
  const before = api.posts().length;
  api.next(answer(api, fields));
  await api.until(() => api.posts().length > before, 'a POST for the invocation');
  const request = api.posts()[before];
  let body;
  try {
    body = JSON.parse(request.body.toString('utf8'));
  } catch {
    body = request.body.toString('utf8');
  }
  return { kind: request.post.kind, id: request.post.id, request, body };
}

for (const mode of MODES) {
  test(`header values in UTF-8 are served as the official clients serve them (${mode}.x mode)`, T, async (t) => {
    const { api } = await start(t, { mode });
    const answered = await serve(api, {
      id: 'id-été',
      headers: [
        ['Lambda-Runtime-Client-Context', '{"custom":{"name":"Jürgen"}}'],
        ['Lambda-Runtime-Cognito-Identity', '{"cognitoIdentityId":"日本"}'],
      ],
    });
    assert.equal(answered.kind, 'response');
    assert.equal(answered.id, 'id-été');
    assert.equal(answered.request.path, '/2018-06-01/runtime/invocation/id-%C3%A9t%C3%A9/response');
    assert.equal(answered.body.awsRequestId, 'id-été');
    assert.deepEqual(answered.body.clientContext, { custom: { name: 'Jürgen' } });
    assert.deepEqual(answered.body.identity, { cognitoIdentityId: '日本' });

    // Invalid UTF-8: each bad byte is U+FFFD, as V8 decodes what aws-lambda-cpp hands it.
    const invalid = await serve(api, { id: Buffer.from('id-\xff\xfe', 'latin1') });
    assert.equal(invalid.id, 'id-\ufffd\ufffd');
    assert.equal(invalid.request.path, '/2018-06-01/runtime/invocation/id-%EF%BF%BD%EF%BF%BD/response');
  });

  test(`a request id sent twice is answered under the first (${mode}.x mode)`, T, async (t) => {
    const { api } = await start(t, { mode });
    const answered = await serve(api, { id: 'first', headers: [['Lambda-Runtime-Aws-Request-Id', 'second']] });
    assert.equal(answered.kind, 'response');
    assert.equal(answered.id, 'first');
  });

  test(`a missing or odd deadline and a missing ARN are served, the remaining time computed from what was sent (${mode}.x mode)`, T, async (t) => {
    const { api, rt } = await start(t, { mode, env: { AWS_LAMBDA_RUNTIME_VERBOSE: '1' } });
    for (const [deadline, sentMs] of [
      [600000, 600000], // cargo-lambda 1.9's emulator
      [null, 0], // no deadline: 0, as aws-lambda-cpp reads it
      ['soon', 0], // the official clients abort (assert) here
      [`${Date.now() + 60_000}.5`, null],
    ]) {
      const answered = await serve(api, { id: 'odd', deadline });
      assert.equal(answered.kind, 'response', JSON.stringify(answered.body));
      const now = Date.now();
      if (sentMs === null) assert.ok(answered.body.remaining > 50_000 && answered.body.remaining <= 60_000, `${answered.body.remaining}`);
      else assert.ok(Math.abs(answered.body.remaining - (sentMs - now)) < 5_000, `${answered.body.remaining} for ${sentMs}`);
    }
    const noArn = await serve(api, { id: 'no-arn', arn: null });
    assert.equal(noArn.kind, 'response');
    assert.equal(noArn.body.invokedFunctionArn, '');
    assert.match(rt.stdout, /invocation odd: Lambda-Runtime-Deadline-Ms is 600000, not an epoch time/);
  });

  test(`an event without a request id ends the process with a named error and nothing posted (${mode}.x mode)`, T, async (t) => {
    const { api, rt } = await start(t, { mode });
    api.next(answer(api, { id: '' }));
    const exit = await rt.exited;
    assert.equal(exit.code, mode === 3 ? 129 : 1);
    const output = exit.stdout + exit.stderr;
    assert.match(output, /Runtime\.MissingRequestId/);
    assert.match(output, /Lambda-Runtime-Aws-Request-Id/);
    assert.deepEqual(api.posts(), []);
  });

  test(`an answer reset inside its head is reported as such (${mode}.x mode)`, T, async (t) => {
    const { api, rt } = await start(t, { mode });
    api.next(api.fault.resetInHead(answer(api, { id: 'cut' })));
    const exit = await rt.exited;
    assert.equal(exit.code, mode === 3 ? 129 : 1);
    const output = exit.stdout + exit.stderr;
    assert.match(output, /broke off inside its head: the connection was reset .*after \d+ bytes/);
    assert.doesNotMatch(output, /unreachable/);
    assert.equal(api.requests.length, 1, 'GET next was not sent again');
  });

  test(`a streamed response outlives a deadline that is not an epoch time (${mode}.x mode)`, T, async (t) => {
    const { api } = await start(t, { mode, handler: 'handlers.pipeNotAwaited', taskRoot: path.join(FIXTURES, 'streaming') });
    const answered = await serve(api, { id: 'streamed', deadline: 600000 });
    assert.equal(answered.kind, 'response');
    assert.equal(answered.request.body.toString(), 'late-1;late-2');
  });
}
