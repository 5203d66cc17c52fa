// The function: any handler that runs under the official Node.js runtime runs unchanged.
export const handler = async (event, context) => ({
  message: `hello, ${event.name ?? 'world'}`,
  requestId: context.awsRequestId,
});
