// Types of `lambda-rapid/snapstart` (lib/snapstart-hooks.mjs). Guide: docs/snapstart.md.
// globalThis.awslambda is not declared here: @types/aws-lambda declares an `awslambda` namespace,
// and a second declaration of the global would clash with it in a function that uses both.

/** A SnapStart runtime hook: sync, or async (its promise is awaited). It takes no arguments. */
export type SnapStartHook = () => unknown | Promise<unknown>;

/**
 * Runs `hook` once the function's init is done, before Lambda snapshots the environment.
 * Before-snapshot hooks run in the REVERSE order of registration; one that throws fails the init
 * (`Runtime.BeforeSnapshotError`). Outside SnapStart the hook is kept and never called.
 */
export declare function registerBeforeSnapshot(hook: SnapStartHook): void;

/**
 * Runs `hook` in every environment restored from the snapshot, before its first invocation.
 * After-restore hooks run in the order of registration (Lambda allows them 10 s); one that throws
 * fails the restore (`Runtime.AfterRestoreError`). Outside SnapStart the hook is never called.
 */
export declare function registerAfterRestore(hook: SnapStartHook): void;

/** The same two functions, as `globalThis.awslambda.snapStart` holds them. */
export declare const snapStart: {
  readonly registerBeforeSnapshot: typeof registerBeforeSnapshot;
  readonly registerAfterRestore: typeof registerAfterRestore;
};
