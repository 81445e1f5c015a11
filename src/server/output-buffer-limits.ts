/**
 * client-output-buffer-limit (Redis's networking.c checkClientOutputBufferLimits):
 * per client class — normal, replica, pubsub — a hard limit that closes a
 * client as soon as its unsent output reaches it, and a soft limit that
 * closes it once its output has stayed at or above it for soft-seconds. A
 * subscriber that stops reading is thus dropped before it holds the node's
 * memory, and logged as Redis logs it.
 *
 * The configuration keeps Redis's form: "normal H S T slave H S T pubsub H
 * S T", bytes and seconds; CONFIG SET names only the classes it changes.
 */

export const enum ClientClass {
  Normal = 0,
  Replica = 1,
  Pubsub = 2,
}

export interface BufferLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

const CLASS_NAMES = ['normal', 'slave', 'pubsub'];

/** getClientTypeByName, without master (which has no limits). */
function classByName(name: string): ClientClass | -1 {
  switch (name.toLowerCase()) {
    case 'normal': return ClientClass.Normal;
    case 'slave':
    case 'replica': return ClientClass.Replica;
    case 'pubsub': return ClientClass.Pubsub;
    default: return -1;
  }
}

/** memtoull: digits with an optional unit (b, k, kb, m, mb, g, gb); null when malformed. */
function memoryValue(text: string): number | null {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(text);
  if (!m) return null;
  const units: Record<string, number> = { '': 1, b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return Number(m[1]) * units[(m[2] ?? '').toLowerCase()];
}

export function parseBufferLimits(text: string): BufferLimit[] {
  const parts = text.trim().split(/\s+/);
  const limits: BufferLimit[] = [];
  for (let i = 0; i + 3 < parts.length; i += 4) {
    limits[classByName(parts[i]) as number] = { hard: Number(parts[i + 1]), soft: Number(parts[i + 2]), softSeconds: Number(parts[i + 3]) };
  }
  return limits;
}

function formatBufferLimits(limits: BufferLimit[]): string {
  return limits.map((l, i) => `${CLASS_NAMES[i]} ${l.hard} ${l.soft} ${l.softSeconds}`).join(' ');
}

/**
 * setConfigClientOutputBufferLimitOption: the new value with the classes
 * named in `text` replaced, or an Error with Redis's message. The whole text
 * is checked before anything changes.
 */
export function updateBufferLimits(current: string, text: string): string | Error {
  const parts = text.trim() === '' ? [] : text.trim().split(/\s+/);
  if (parts.length % 4 !== 0) return new Error('Wrong number of arguments in buffer limit configuration.');
  for (let j = 0; j < parts.length; j++) {
    if (j % 4 === 0) {
      if (classByName(parts[j]) === -1) return new Error('Invalid client class specified in buffer limit configuration.');
    } else if (memoryValue(parts[j]) === null) {
      return new Error('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
    }
  }
  const limits = parseBufferLimits(current);
  for (let j = 0; j < parts.length; j += 4) {
    limits[classByName(parts[j]) as number] = {
      hard: memoryValue(parts[j + 1])!, soft: memoryValue(parts[j + 2])!, softSeconds: Number.parseInt(parts[j + 3], 10),
    };
  }
  return formatBufferLimits(limits);
}

/** A connection's soft-limit clock (obuf_soft_limit_reached_time). */
export class OutputBufferWatch {
  private softSince = 0;

  /**
   * Whether `used` bytes of unsent output break the class's limit at `now`
   * (ms): at once for the hard limit, after softSeconds above the soft one.
   */
  exceeded(used: number, limit: BufferLimit, now: number): boolean {
    if (limit.hard > 0 && used >= limit.hard) return true;
    if (limit.soft > 0 && used >= limit.soft) {
      if (this.softSince === 0) {
        this.softSince = now;
        return false;
      }
      return now - this.softSince > limit.softSeconds * 1000;
    }
    this.softSince = 0;
    return false;
  }
}

export function className(cls: ClientClass): string {
  return ['normal', 'replica', 'pubsub'][cls];
}
