// A plain async handler: the event in, a JSON answer out.
export const handler = async (event, context) => ({
  message: `hello, ${event.name ?? 'world'}`,
  requestId: context.awsRequestId,
  remainingMs: context.getRemainingTimeInMillis() > 0,
});
