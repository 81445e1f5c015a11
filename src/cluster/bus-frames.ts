/**
 * Cluster bus framing: every frame is a 4-byte big-endian body length and a
 * msgpackr-encoded body. The body carries what Redis's clusterMsg carries
 * (cluster_legacy.h): a header describing the sender, then the payload of
 * its type. The bus is weft-to-weft, so the body is a msgpack map rather
 * than Redis's fixed binary layout, but the fields and their meaning are
 * Redis's.
 *
 * Everything decoded here comes from the network: the decoder checks every
 * field's type and range and reports a malformed frame as an error string,
 * so the link owner can close that link without anything being thrown.
 */
import net from 'node:net';
import { Packr, Unpackr } from 'msgpackr';
import { SLOTS } from './cluster-node.js';

/** Bus protocol version carried in every message (Redis's clusterMsg ver). */
export const BUS_PROTOCOL_VERSION = 1;
/** The largest body accepted; a real message is about 2.5 KiB plus 100 bytes a gossip entry. */
export const MAX_FRAME_BYTES = 1 << 20;
export const FRAME_LENGTH_BYTES = 4;
/** Redis's NET_IP_STR_LEN minus the terminator. */
const MAX_IP_CHARS = 45;
/** A DNS name's longest text form. */
const MAX_HOSTNAME_CHARS = 255;
/** More gossip entries than any sane cluster sends in one ping (Redis caps the cluster at ~1000 nodes). */
const MAX_GOSSIP_ENTRIES = 4096;
const MAX_PUBLISH_BYTES = MAX_FRAME_BYTES;
const SLOT_BITMAP_BYTES = SLOTS / 8;
const NODE_ID = /^[0-9a-f]{40}$/;

/** Message types, numbered as Redis's CLUSTERMSG_TYPE_* (cluster_legacy.h). */
export const MessageType = {
  Ping: 0,
  Pong: 1,
  Meet: 2,
  Fail: 3,
  Publish: 4,
  FailoverAuthRequest: 5,
  FailoverAuthAck: 6,
  Update: 7,
  MfStart: 8,
  PublishShard: 10,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Names used by CLUSTER INFO's cluster_stats_messages_<name>_* (clusterGetMessageTypeString). */
export const MESSAGE_TYPE_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [MessageType.Ping, 'ping'],
  [MessageType.Pong, 'pong'],
  [MessageType.Meet, 'meet'],
  [MessageType.Fail, 'fail'],
  [MessageType.Publish, 'publish'],
  [MessageType.FailoverAuthRequest, 'auth-req'],
  [MessageType.FailoverAuthAck, 'auth-ack'],
  [MessageType.Update, 'update'],
  [MessageType.MfStart, 'mfstart'],
  [MessageType.PublishShard, 'publishshard'],
]);

/** mflags bits (CLUSTERMSG_FLAG0_*). */
export const MessageFlag = {
  /** The master is paused for a manual failover. */
  Paused: 1,
  /** Give an ACK even if the master is up (manual failover). */
  ForceAck: 2,
} as const;

/** One node as the sender sees it (clusterMsgDataGossip); times in unix seconds as Redis sends them. */
export interface GossipEntry {
  id: string;
  pingSent: number;
  pongReceived: number;
  ip: string;
  port: number;
  cport: number;
  flags: number;
}

/** The clusterMsg header fields. */
export interface MessageHeader {
  sender: string;
  currentEpoch: number;
  /** The sender's configEpoch, or its master's when the sender is a replica. */
  configEpoch: number;
  replicationOffset: number;
  /** The slots the sender (or its master) serves, a SLOTS-bit bitmap. */
  slots: Uint8Array;
  /** The sender's master, null for a master. */
  masterId: string | null;
  /** The announced ip (cluster-announce-ip), empty to let the receiver use the peer address. */
  ip: string;
  port: number;
  cport: number;
  flags: number;
  stateOk: boolean;
  mflags: number;
}

export interface UpdatePayload {
  id: string;
  configEpoch: number;
  slots: Uint8Array;
}

export type BusMessage = MessageHeader &
  (
    | {
        type: typeof MessageType.Ping | typeof MessageType.Pong | typeof MessageType.Meet;
        gossip: GossipEntry[];
        /** Redis's HOSTNAME ping extension (cluster-announce-hostname), empty when none. */
        hostname: string;
        /** Redis's SHARDID ping extension. */
        shardId: string;
      }
    | { type: typeof MessageType.Fail; failing: string }
    | { type: typeof MessageType.Publish | typeof MessageType.PublishShard; channel: Uint8Array; message: Uint8Array }
    | {
        type: typeof MessageType.FailoverAuthRequest | typeof MessageType.FailoverAuthAck | typeof MessageType.MfStart;
      }
    | { type: typeof MessageType.Update; update: UpdatePayload }
  );

/** PING, PONG and MEET share one format (clusterMsgDataGossip section). */
export type PingMessage = Extract<BusMessage, { gossip: GossipEntry[] }>;

const packer = new Packr({ useRecords: false, variableMapSize: true });
const unpacker = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** The wire form: short keys, the header under fixed names, the payload by type. */
function toWire(message: BusMessage): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    v: BUS_PROTOCOL_VERSION,
    type: message.type,
    sender: message.sender,
    currentEpoch: message.currentEpoch,
    configEpoch: message.configEpoch,
    offset: message.replicationOffset,
    slots: message.slots,
    master: message.masterId ?? '',
    ip: message.ip,
    port: message.port,
    cport: message.cport,
    flags: message.flags,
    state: message.stateOk ? 0 : 1,
    mflags: message.mflags,
  };
  switch (message.type) {
    case MessageType.Ping:
    case MessageType.Pong:
    case MessageType.Meet:
      wire.gossip = message.gossip.map((g) => [g.id, g.pingSent, g.pongReceived, g.ip, g.port, g.cport, g.flags]);
      wire.hostname = message.hostname;
      wire.shardId = message.shardId;
      break;
    case MessageType.Fail:
      wire.failing = message.failing;
      break;
    case MessageType.Publish:
    case MessageType.PublishShard:
      wire.channel = message.channel;
      wire.message = message.message;
      break;
    case MessageType.Update:
      wire.update = [message.update.id, message.update.configEpoch, message.update.slots];
      break;
    default:
      break;
  }
  return wire;
}

/** Encodes one message as a complete frame (length prefix included). */
export function encodeFrame(message: BusMessage): Buffer {
  return frameBody(packer.pack(toWire(message)));
}

/** Prefixes an already encoded body with its length (tests use it to frame arbitrary bodies). */
export function frameBody(body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_LENGTH_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  frame.set(body, FRAME_LENGTH_BYTES);
  return frame;
}

/** Thrown inside the decoder only, turned into an error string before it leaves this module. */
class MalformedMessage extends Error {}

function fail(what: string): never {
  throw new MalformedMessage(what);
}

function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function uint(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) fail(`bad ${what}`);
  return value;
}

function nodeId(value: unknown, what: string): string {
  if (typeof value !== 'string' || !NODE_ID.test(value)) fail(`bad ${what}`);
  return value;
}

/** An IPv4/IPv6 address in text form, or empty for "unknown". */
function ip(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > MAX_IP_CHARS) fail(`bad ${what}`);
  if (value !== '' && net.isIP(value) === 0) fail(`bad ${what}`);
  return value;
}

function hostname(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_HOSTNAME_CHARS || !/^[A-Za-z0-9._-]*$/.test(value)) {
    fail('bad hostname');
  }
  return value;
}

function bytes(value: unknown, maxLength: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length > maxLength) fail(`bad ${what}`);
  return value;
}

function slotBitmap(value: unknown, what: string): Uint8Array {
  const bitmap = bytes(value, SLOT_BITMAP_BYTES, what);
  if (bitmap.length !== SLOT_BITMAP_BYTES) fail(`bad ${what}`);
  return bitmap;
}

const U16 = 0xffff;
const U32 = 0xffffffff;

function gossipEntry(value: unknown): GossipEntry {
  if (!Array.isArray(value) || value.length !== 7) fail('bad gossip entry');
  return {
    id: nodeId(value[0], 'gossip node id'),
    pingSent: uint(value[1], U32, 'gossip ping time'),
    pongReceived: uint(value[2], U32, 'gossip pong time'),
    ip: ip(value[3], 'gossip ip'),
    port: uint(value[4], U16, 'gossip port'),
    cport: uint(value[5], U16, 'gossip cport'),
    flags: uint(value[6], U16, 'gossip flags'),
  };
}

/** Checks a decoded body field by field and builds the typed message (clusterIsValidPacket). */
function fromWire(decoded: unknown): BusMessage {
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded) || decoded instanceof Uint8Array) {
    fail('body is not a map');
  }
  const wire = decoded as Record<string, unknown>;
  if (own(wire, 'v') !== BUS_PROTOCOL_VERSION) fail('unsupported protocol version');
  const type = uint(own(wire, 'type'), U16, 'message type');
  if (!MESSAGE_TYPE_NAMES.has(type)) fail(`unknown message type ${type}`);
  const master = own(wire, 'master');
  const state = own(wire, 'state');
  if (state !== 0 && state !== 1) fail('bad cluster state');
  const header: MessageHeader = {
    sender: nodeId(own(wire, 'sender'), 'sender id'),
    currentEpoch: uint(own(wire, 'currentEpoch'), Number.MAX_SAFE_INTEGER, 'currentEpoch'),
    configEpoch: uint(own(wire, 'configEpoch'), Number.MAX_SAFE_INTEGER, 'configEpoch'),
    replicationOffset: uint(own(wire, 'offset'), Number.MAX_SAFE_INTEGER, 'replication offset'),
    slots: slotBitmap(own(wire, 'slots'), 'slot bitmap'),
    masterId: master === '' ? null : nodeId(master, 'master id'),
    ip: ip(own(wire, 'ip'), 'sender ip'),
    port: uint(own(wire, 'port'), U16, 'port'),
    cport: uint(own(wire, 'cport'), U16, 'cluster port'),
    flags: uint(own(wire, 'flags'), U16, 'flags'),
    stateOk: state === 0,
    mflags: uint(own(wire, 'mflags'), 0xff, 'mflags'),
  };
  switch (type) {
    case MessageType.Ping:
    case MessageType.Pong:
    case MessageType.Meet: {
      const gossip = own(wire, 'gossip');
      if (!Array.isArray(gossip) || gossip.length > MAX_GOSSIP_ENTRIES) fail('bad gossip section');
      return {
        ...header,
        type,
        gossip: gossip.map(gossipEntry),
        hostname: hostname(own(wire, 'hostname')),
        shardId: nodeId(own(wire, 'shardId'), 'shard id'),
      };
    }
    case MessageType.Fail:
      return { ...header, type, failing: nodeId(own(wire, 'failing'), 'failing node id') };
    case MessageType.Publish:
    case MessageType.PublishShard:
      return {
        ...header,
        type,
        channel: bytes(own(wire, 'channel'), MAX_PUBLISH_BYTES, 'channel'),
        message: bytes(own(wire, 'message'), MAX_PUBLISH_BYTES, 'message'),
      };
    case MessageType.Update: {
      const update = own(wire, 'update');
      if (!Array.isArray(update) || update.length !== 3) fail('bad update payload');
      return {
        ...header,
        type,
        update: {
          id: nodeId(update[0], 'update node id'),
          configEpoch: uint(update[1], Number.MAX_SAFE_INTEGER, 'update configEpoch'),
          slots: slotBitmap(update[2], 'update slot bitmap'),
        },
      };
    }
    case MessageType.FailoverAuthRequest:
    case MessageType.FailoverAuthAck:
    case MessageType.MfStart:
      return { ...header, type };
    default:
      return fail(`unknown message type ${type}`);
  }
}

/** Decodes one frame body; returns the message or why it is not one. */
export function decodeBody(body: Uint8Array): BusMessage | string {
  let decoded: unknown;
  try {
    decoded = unpacker.unpack(body);
  } catch (e) {
    return `undecodable body: ${(e as Error).message}`;
  }
  try {
    return fromWire(decoded);
  } catch (e) {
    if (e instanceof MalformedMessage) return `malformed message: ${e.message}`;
    return `malformed message: ${String(e)}`;
  }
}

/**
 * Reassembles frames from a byte stream cut anywhere. After the first error
 * it stays failed: the link must be closed, since the stream position is
 * lost (Redis frees the link on a bad length or signature, clusterReadHandler).
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failure: string | null = null;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  get error(): string | null {
    return this.failure;
  }

  /** Bytes received and not yet consumed as a whole frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds received bytes; returns the complete messages they finish. When a
   * frame is malformed, returns the messages before it and sets `error`.
   */
  push(chunk: Buffer): BusMessage[] {
    const messages: BusMessage[] = [];
    if (this.failure !== null) return messages;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= FRAME_LENGTH_BYTES) {
      const head = this.peek(FRAME_LENGTH_BYTES);
      const length = head.readUInt32BE(0);
      if (length === 0 || length > this.maxFrameBytes) {
        this.failWith(`bad frame length ${length}`);
        break;
      }
      if (this.buffered < FRAME_LENGTH_BYTES + length) break;
      const frame = this.take(FRAME_LENGTH_BYTES + length);
      const result = decodeBody(frame.subarray(FRAME_LENGTH_BYTES));
      if (typeof result === 'string') {
        this.failWith(result);
        break;
      }
      messages.push(result);
    }
    return messages;
  }

  private failWith(reason: string): void {
    this.failure = reason;
    this.chunks = [];
    this.buffered = 0;
  }

  /** The first n buffered bytes, joining chunks only when the bytes span several. */
  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    const frame = this.peek(n);
    const first = this.chunks[0];
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return frame;
  }
}
