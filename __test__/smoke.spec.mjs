import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeClient } from '../lib/native.mjs';
import { startRuntimeApi } from './helpers/runtime-api.mjs';

test('next() then respond() round-trips one invocation through a real Runtime API', async (t) => {
  const api = await startRuntimeApi();
  t.after(() => api.close());
  const client = new RuntimeClient(api.endpoint);
  const done = api.invoke({ hello: 'world' }, { requestId: 'req-1' });
  const inv = await client.next();
  assert.equal(inv.requestId, 'req-1');
  assert.deepEqual(JSON.parse(inv.body), { hello: 'world' });
  await client.respond(inv.requestId, '{"ok":true}');
  const result = await done;
  assert.equal(result.kind, 'response');
  assert.equal(result.entry.body.toString(), '{"ok":true}');
});
