// `lambda-rapid/snapstart`: the SnapStart runtime hooks as named exports, for a function that
// would rather import them than use globalThis.awslambda.snapStart (the same functions, the same
// registry: lib/awslambda.mjs). Types: snapstart.d.ts. Guide: docs/snapstart.md.
//
//   import { registerBeforeSnapshot, registerAfterRestore } from 'lambda-rapid/snapstart';
//   registerAfterRestore(async () => { db = await connect(); });
export { registerBeforeSnapshot, registerAfterRestore, snapStart } from './awslambda.mjs';
