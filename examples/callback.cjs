// A callback-style handler (CommonJS, as many existing functions are written).
exports.handler = (event, context, callback) => {
  setTimeout(() => callback(null, { sum: (event.numbers ?? []).reduce((a, b) => a + b, 0) }), 5);
};
