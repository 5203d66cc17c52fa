#!/usr/bin/env node
// One command, two jobs. `lambda-rapid serve|invoke|--help ...` is the local emulator's CLI;
// anything else makes this process the runtime itself (`lambda-rapid app.handler` as a
// container's entrypoint, like `npx aws-lambda-ric app.handler`), so the runtime's start-up
// pays for nothing but index.mjs.
const CLI = new Set(['serve', 'invoke', 'warm', 'help', '--help', '-h', '--version', '-v']);
const first = process.argv[2];

if (CLI.has(first) || first?.startsWith('-') || (first === undefined && !process.env.AWS_LAMBDA_RUNTIME_API)) {
  const { main } = await import('../lib/cli.mjs');
  process.exitCode = await main(process.argv.slice(2));
} else if (!process.env.AWS_LAMBDA_RUNTIME_API) {
  process.stderr.write(
    'lambda-rapid: AWS_LAMBDA_RUNTIME_API is not set, so there is no Lambda to run in.\n' +
      `To run the function locally: lambda-rapid serve ${first}\n` +
      "Run 'lambda-rapid --help' for usage.\n",
  );
  process.exitCode = 2;
} else {
  // The runtime's own modules compile from `lambda-rapid warm`'s cache too, when there is one:
  // the task root as index.mjs finds it (the working directory when a handler is given).
  const { useCompileCache } = await import('../lib/compile-cache.mjs');
  useCompileCache((first === undefined && process.env.LAMBDA_TASK_ROOT) || process.cwd());
  await import('../index.mjs');
}
