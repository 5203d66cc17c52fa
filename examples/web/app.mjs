// A small web app as one Lambda function behind a Function URL: a plain handler (no framework)
// that serves an HTML page at / and a JSON API under /api/. Run it locally as a web server:
//
//   npx lambda-rapid serve app.handler --task-root examples/web --http --watch
//   open http://127.0.0.1:9000/
//
// The event is the Function URL payload (API Gateway HTTP API format 2.0); the answer is
// { statusCode, headers, cookies, body }.

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>lambda-rapid web example</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; }
    button { font: inherit; padding: .4rem 1rem; }
    #answer { margin-top: 1rem; padding: .6rem; background: #f3f3f3; min-height: 1.5rem; white-space: pre-wrap; }
  </style>
</head>
<body>
  <h1>Hello from Lambda</h1>
  <p>This page and the API it calls are served by one function, run locally by <code>lambda-rapid serve --http</code>.</p>
  <label>Name <input id="name" value="browser"></label>
  <button id="ask" type="button">Ask the API</button>
  <div id="answer" aria-live="polite"></div>
  <script type="module">
    const answer = document.getElementById('answer');
    document.getElementById('ask').addEventListener('click', async () => {
      answer.textContent = '...';
      const res = await fetch('/api/greeting', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: document.getElementById('name').value }),
      });
      const data = await res.json();
      answer.textContent = res.ok ? data.message + ' (visit ' + data.visits + ')' : 'error ' + res.status;
    });
  </script>
</body>
</html>
`;

const json = (statusCode, value, extra = {}) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
  ...extra,
});

export const handler = async (event) => {
  const method = event.requestContext.http.method;
  const path = event.rawPath;
  if (method === 'GET' && path === '/') {
    return { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: PAGE };
  }
  if (method === 'POST' && path === '/api/greeting') {
    const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString() : event.body;
    let name;
    try {
      name = String(JSON.parse(raw ?? '{}').name ?? '').trim();
    } catch {
      return json(400, { message: 'the body must be JSON' });
    }
    // A cookie round trip: the browser sends `cookies` back, the answer sets the next value.
    const visits = Number(event.cookies?.find((c) => c.startsWith('visits='))?.slice(7) ?? 0) + 1;
    return json(200, {
      message: `Hello, ${name || 'stranger'}!`,
      visits,
      userAgent: event.requestContext.http.userAgent,
    }, { cookies: [`visits=${visits}; Path=/; SameSite=Strict`] });
  }
  if (method === 'GET' && path === '/api/time') {
    return json(200, { now: new Date().toISOString() });
  }
  return json(404, { message: `no route for ${method} ${path}` });
};
