// Returns a small API-Gateway-style object, the most common shape of a Lambda result.
const headers = { 'content-type': 'application/json', 'x-bench': 'object' };

export const handler = async (event) => ({
  statusCode: 200,
  headers,
  body: '{"ok":true,"items":[1,2,3]}',
  isBase64Encoded: false,
});
