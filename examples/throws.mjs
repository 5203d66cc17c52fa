// A handler that fails: the caller gets Lambda's error JSON and `X-Amz-Function-Error: Unhandled`.
class PaymentDeclinedError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PaymentDeclinedError';
  }
}

export const handler = async (event) => {
  throw new PaymentDeclinedError(`card ${event.card ?? '0000'} declined`);
};
