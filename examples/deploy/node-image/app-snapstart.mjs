// A SnapStart function (docs/snapstart.md): what the init builds is in the snapshot; what must
// differ per environment is made after the restore. Runs unchanged without SnapStart (the hooks
// are then never called) and under other runtimes.
import { randomUUID } from 'node:crypto';
import { registerBeforeSnapshot, registerAfterRestore } from 'lambda-rapid/snapstart';

// Init: expensive, shared by every environment restored from the snapshot.
const config = { greeting: 'hello' };
// Unique per environment: drawn again after each restore.
let environmentId = randomUUID();
let connectedAt = new Date().toISOString(); // stands in for an SDK client or a database pool

registerBeforeSnapshot(async () => {
  // Close what must not be frozen: a pooled connection would be dead after the restore.
  connectedAt = null;
});

registerAfterRestore(async () => {
  environmentId = randomUUID(); // the runtime refilled randomUUID's cache before this hook
  connectedAt = new Date().toISOString(); // re-create clients here
});

export const handler = async (event) => ({
  message: `${config.greeting}, ${event.name ?? 'world'}`,
  environmentId,
  connectedAt,
});
