/**
 * DUMP payloads (cluster.c's createDumpPayload / verifyDumpPayload): an RDB
 * body, then the RDB version as two little-endian bytes, then the CRC-64 of
 * everything before it, little endian. A payload from a newer RDB version,
 * or whose checksum does not match, is refused.
 */
import { crc64 } from './crc64.js';

/** Redis 7.0's RDB version. */
export const RDB_VERSION = 10;
const FOOTER_BYTES = 10;

export function createDumpPayload(body: Uint8Array): Buffer {
  const out = Buffer.alloc(body.length + FOOTER_BYTES);
  out.set(body, 0);
  out.writeUInt16LE(RDB_VERSION, body.length);
  out.writeBigUInt64LE(crc64(out.subarray(0, body.length + 2)), body.length + 2);
  return out;
}

/** The body of a valid payload, or null (Redis's "DUMP payload version or checksum are wrong"). */
export function verifyDumpPayload(payload: Buffer): Buffer | null {
  if (payload.length < FOOTER_BYTES) return null;
  const footer = payload.length - FOOTER_BYTES;
  if (payload.readUInt16LE(footer) > RDB_VERSION) return null;
  if (crc64(payload.subarray(0, footer + 2)) !== payload.readBigUInt64LE(footer + 2)) return null;
  return payload.subarray(0, footer);
}
