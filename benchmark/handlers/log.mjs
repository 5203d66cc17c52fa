// Logging-heavy: 100 console.log calls per invocation, mixing a string, a number and an
// object (so the runtime's formatting, not only the write, is exercised).
export const handler = async (event) => {
  for (let i = 0; i < 100; i++) console.log('processing item', i, { id: event.id, step: i });
  return { logged: 100 };
};
