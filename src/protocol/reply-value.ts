/**
 * A reply as plain data, for replies computed on another thread (the
 * coordinator answers CLUSTER subcommands): structured-clone friendly, and
 * written in the RESP version of the client that asked.
 */
import type { ReplyWriter } from './reply-writer.js';

export type ReplyValue =
  | { ok: true }
  | { simple: string }
  | { error: string }
  | { int: number }
  | { bulk: string }
  | { verbatim: string }
  | { array: ReplyValue[] }
  | { map: [string, ReplyValue][] }
  | null;

export function writeReplyValue(out: ReplyWriter, v: ReplyValue): void {
  if (v === null) out.nullBulk();
  else if ('ok' in v) out.ok();
  else if ('simple' in v) out.simple(v.simple);
  else if ('error' in v) out.error(v.error);
  else if ('int' in v) out.integer(v.int);
  else if ('bulk' in v) out.bulkString(v.bulk);
  else if ('verbatim' in v) out.verbatim(v.verbatim);
  else if ('array' in v) {
    out.arrayHeader(v.array.length);
    for (const item of v.array) writeReplyValue(out, item);
  } else {
    out.mapHeader(v.map.length);
    for (const [k, item] of v.map) {
      out.bulkString(k);
      writeReplyValue(out, item);
    }
  }
}
