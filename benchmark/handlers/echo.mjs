// Returns the event unchanged: the runtime must post back exactly the bytes it received (the
// bench events are canonical JSON, so JSON.parse + JSON.stringify round-trips them).
export const handler = async (event) => event;
