// The Lambda telemetry log channel: when Lambda hands the runtime a file descriptor in
// _LAMBDA_TELEMETRY_LOG_FD, every log record goes there as one binary frame instead of a line
// on stdout, so a record keeps its raw newlines and its exact timestamp:
//
//   +----------------------+------------------+------------------------+-------------------+
//   | frame type (4 bytes) | length (4 bytes) | timestamp (8 bytes)    | message (length)  |
//   +----------------------+------------------+------------------------+-------------------+
//
// Big-endian. Frame type = 0xa55a0003 (TEXT) or 0xa55a0002 (JSON), OR-ed with the level's mask
// (both official clients OR the mask into TEXT frames too). Timestamp = Unix time in
// microseconds (the official clients send milliseconds * 1000, so do we).
//
// Why one write per frame: the official client writes the 16-byte header and the message with
// two write(2) calls; a reader that sees the pipe between them, or a second writer on the same
// fd (a worker, a native module), can interleave. We encode header + message into one reusable
// buffer and write it with a single call, looping only if the kernel accepts part of it.
import { builtin } from './builtin.mjs';

const { writeSync } = builtin('node:fs');

export const FRAME_TYPE_TEXT = 0xa55a0003;
export const FRAME_TYPE_JSON = 0xa55a0002;
export const FRAME_HEADER_SIZE = 16;

const TWO_POW_32 = 2 ** 32;
const INITIAL_CAPACITY = 64 * 1024;

/**
 * Reads and removes _LAMBDA_TELEMETRY_LOG_FD from `env` (the official clients delete it so a
 * child process the function spawns does not write frames into Lambda's channel). Returns the
 * fd, or undefined when unset or not a positive integer (3.x would crash on the first record
 * with a garbage value; 4.x ignores it — we follow 4.x).
 */
export function consumeTelemetryFd(env = process.env) {
  const raw = env._LAMBDA_TELEMETRY_LOG_FD;
  if (raw === undefined) return undefined;
  delete env._LAMBDA_TELEMETRY_LOG_FD;
  const fd = Number(raw);
  return Number.isInteger(fd) && fd > 0 ? fd : undefined;
}

/** Writes all of buf[0, length) to fd, retrying partial writes and EAGAIN on a non-blocking fd. */
export function writeFully(fd, buf, length) {
  let off = 0;
  while (off < length) {
    try {
      off += writeSync(fd, buf, off, length - off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      // The reader is behind and the fd is non-blocking: wait a moment rather than drop or
      // reorder the record (logging is synchronous in the official clients too).
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  }
}
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * A frame writer bound to one fd. writeFrame(type, ms, message) encodes and writes one frame;
 * `message` is a JS string written as UTF-8.
 */
export function createTelemetryWriter(fd) {
  let buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  return {
    fd,
    writeFrame(type, ms, message) {
      // A UTF-16 code unit never takes more than 3 UTF-8 bytes: size the buffer for the worst
      // case so the message is encoded once, straight into place.
      const worst = FRAME_HEADER_SIZE + message.length * 3;
      if (worst > buf.length) buf = Buffer.allocUnsafe(Math.max(worst, buf.length * 2));
      const len = buf.write(message, FRAME_HEADER_SIZE);
      const us = ms * 1000; // < 2^53 for any real date, so exact as a double
      buf.writeUInt32BE(type >>> 0, 0);
      buf.writeUInt32BE(len, 4);
      buf.writeUInt32BE(Math.floor(us / TWO_POW_32), 8);
      buf.writeUInt32BE(us % TWO_POW_32, 12);
      writeFully(fd, buf, FRAME_HEADER_SIZE + len);
      // Do not keep a huge buffer alive after one huge record.
      if (buf.length > 4 * INITIAL_CAPACITY * 16) buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
    },
  };
}
