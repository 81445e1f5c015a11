import t from 'tap';
import { prng } from './helpers/prng.js';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Packr, Unpackr } from 'msgpackr';
import { ClusterBus } from '../src/cluster/cluster-bus.js';
import { ClusterNode, NodeFlag, randomNodeId, SLOTS } from '../src/cluster/cluster-node.js';
import { type ClusterOptions, ClusterState } from '../src/cluster/cluster-state.js';
import {
  type BusMessage,
  encodeFrame,
  FrameDecoder,
  frameBody,
  MAX_FRAME_BYTES,
  MessageType,
} from '../src/cluster/bus-frames.js';
import { type BusEventMap, type BusLink, Gossip, type GossipTransport } from '../src/cluster/gossip.js';

const NODE_TIMEOUT = 500;

function clusterOptions(port: number): ClusterOptions {
  return {
    port,
    cport: 0,
    announceIp: '',
    announceHostname: '',
    nodeTimeout: NODE_TIMEOUT,
    requireFullCoverage: true,
  };
}

interface TestNode {
  state: ClusterState;
  bus: ClusterBus;
  logs: string[];
}

/** A bus on a free loopback port; the client port is only advertised, nothing listens on it. */
async function startNode(clientPort: number): Promise<TestNode> {
  const state = new ClusterState(clusterOptions(clientPort));
  const logs: string[] = [];
  const bus = new ClusterBus(state, {
    listen: [{ host: '127.0.0.1' }],
    log: (level, message) => {
      if (logs.length < 2000) logs.push(`${level} ${message}`);
    },
  });
  await bus.start();
  return { state, bus, logs };
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}


function pingFrom(node: TestNode, type: typeof MessageType.Ping | typeof MessageType.Meet = MessageType.Ping): BusMessage {
  const me = node.state.myself;
  return { ...node.bus.gossip.header(), type, gossip: [], hostname: '', shardId: me.shardId };
}

t.test('frame decoder: arbitrary chunking, garbage rejected', async (t) => {
  const state = new ClusterState(clusterOptions(7000));
  const frame = encodeFrame({ ...new Gossip(state, fakeTransport().transport).header(), type: MessageType.Ping, gossip: [], hostname: 'h', shardId: state.myself.shardId });
  const twice = Buffer.concat([frame, frame]);
  for (let cut = 0; cut <= twice.length; cut += 97) {
    const decoder = new FrameDecoder();
    const got = [...decoder.push(twice.subarray(0, cut)), ...decoder.push(twice.subarray(cut))];
    t.equal(got.length, 2, `cut at ${cut}`);
    t.equal(decoder.error, null);
  }
  const bytewise = new FrameDecoder();
  let count = 0;
  for (const byte of frame) count += bytewise.push(Buffer.from([byte])).length;
  t.equal(count, 1, 'one byte at a time');
  t.equal(bytewise.pendingBytes, 0);

  const oversize = new FrameDecoder();
  const head = Buffer.alloc(4);
  head.writeUInt32BE(MAX_FRAME_BYTES + 1);
  t.same(oversize.push(head), []);
  t.match(oversize.error, /frame length/);
  t.same(oversize.push(frame), [], 'a failed decoder stays failed');

  const packr = new Packr({ useRecords: false });
  const wrongShapes: unknown[] = [[1, 2, 3], 'text', 42, null, { v: 1, type: 0 }, { v: 1, type: 99 }];
  for (const shape of wrongShapes) {
    const decoder = new FrameDecoder();
    t.same(decoder.push(frameBody(packr.pack(shape))), []);
    t.match(decoder.error, /malformed|undecodable/, `rejects ${JSON.stringify(shape)}`);
  }
  const valid = new Unpackr({ useRecords: false, mapsAsObjects: true }).unpack(frame.subarray(4)) as Record<string, unknown>;
  for (const [field, value] of [['slots', 'x'], ['sender', 'zz'], ['port', -1], ['gossip', {}], ['ip', 'not-an-ip'], ['currentEpoch', 1.5]] as const) {
    const decoder = new FrameDecoder();
    t.same(decoder.push(frameBody(packr.pack({ ...valid, [field]: value }))), []);
    t.match(decoder.error, /malformed/, `rejects a bad ${field}`);
  }
  const undecodable = new FrameDecoder();
  t.same(undecodable.push(frameBody(Buffer.from([0x92, 0x01]))), []);
  t.match(undecodable.error, /undecodable/);
});

/** A transport that records what the gossip logic sends, for deterministic checks. */
function fakeTransport(): { transport: GossipTransport; sent: { link: BusLink; message: BusMessage }[]; links: Map<ClusterNode, BusLink> } {
  const sent: { link: BusLink; message: BusMessage }[] = [];
  const links = new Map<ClusterNode, BusLink>();
  const transport: GossipTransport = {
    send: (link, message) => sent.push({ link, message }),
    broadcast: () => {},
    outboundLink: (node) => links.get(node),
    attachInbound: (node, link) => {
      link.node = node;
    },
    closeLink: () => {},
    closeNodeLinks: () => {},
    log: () => {},
    events: new EventEmitter<BusEventMap>(),
  };
  return { transport, sent, links };
}

function fakeLink(inbound: boolean, node: ClusterNode | null): BusLink {
  return { inbound, node, createdAt: Date.now(), localIp: () => '10.0.0.1', remoteIp: () => '10.0.0.2' };
}

function bitmapOf(slots: number[]): Uint8Array {
  const bitmap = new Uint8Array(SLOTS / 8);
  for (const s of slots) bitmap[s >> 3] |= 1 << (s & 7);
  return bitmap;
}

t.test('gossip rules: MEET, unknown PING, slot claims, UPDATE', async (t) => {
  const state = new ClusterState(clusterOptions(7000));
  const { transport, sent, links } = fakeTransport();
  const gossip = new Gossip(state, transport);
  const peerId = randomNodeId();
  const peerHeader = {
    ...gossip.header(),
    sender: peerId,
    port: 7001,
    cport: 17001,
    flags: NodeFlag.Master,
    masterId: null,
    configEpoch: 0,
    currentEpoch: 0,
    slots: new Uint8Array(SLOTS / 8),
  };

  gossip.handle(fakeLink(true, null), { ...peerHeader, type: MessageType.Ping, gossip: [], hostname: '', shardId: randomNodeId() });
  t.equal(state.nodes.size, 1, 'an unknown PING sender is not added');
  t.equal(sent.at(-1)?.message.type, MessageType.Pong, 'but it gets its PONG');
  t.equal(state.myself.ip, '10.0.0.1', 'my ip is learnt from the local address');

  gossip.handle(fakeLink(true, null), { ...peerHeader, type: MessageType.Meet, gossip: [], hostname: '', shardId: randomNodeId() });
  const added = [...state.nodes.values()].find((n) => n !== state.myself)!;
  t.ok(added.flags & NodeFlag.Handshake, 'a MEET adds the sender in handshake');
  t.equal(added.ip, '10.0.0.2');
  t.equal(added.cport, 17001);

  // The handshake completes with the PONG on our own link to it.
  const outbound = fakeLink(false, added);
  links.set(added, outbound);
  gossip.handle(outbound, { ...peerHeader, type: MessageType.Pong, gossip: [], hostname: '', shardId: randomNodeId() });
  t.equal(added.id, peerId, 'renamed to its real id');
  t.notOk(added.flags & NodeFlag.Handshake);
  t.ok(added.pongReceived > 0);

  // An unassigned slot goes to the master that claims it.
  gossip.handle(outbound, { ...peerHeader, type: MessageType.Pong, configEpoch: 3, currentEpoch: 3, slots: bitmapOf([1, 2]), gossip: [], hostname: '', shardId: added.shardId });
  t.equal(state.owner[1], added);
  t.equal(state.currentEpoch, 3, 'currentEpoch follows the highest seen');

  // My slot with a greater epoch: the stale claimant gets an UPDATE.
  state.assignSlot(state.myself, 5);
  state.myself.configEpoch = 10;
  state.currentEpoch = 10;
  sent.length = 0;
  gossip.handle(outbound, { ...peerHeader, type: MessageType.Pong, configEpoch: 3, currentEpoch: 3, slots: bitmapOf([1, 2, 5]), gossip: [], hostname: '', shardId: added.shardId });
  t.equal(state.owner[5], state.myself, 'a stale claim does not move the slot');
  const update = sent.find((s) => s.message.type === MessageType.Update);
  t.ok(update, 'an UPDATE is sent');
  if (update?.message.type === MessageType.Update) {
    t.equal(update.message.update.id, state.myself.id);
    t.equal(update.message.update.configEpoch, 10);
    t.equal(update.link, outbound);
  }

  // A greater epoch takes the slot; I keep other slots, so I am told to drop keys in the lost one.
  state.assignSlot(state.myself, 6);
  const lost: number[][] = [];
  transport.events.on('slots-lost', (slots) => lost.push(slots));
  gossip.handle(outbound, { ...peerHeader, type: MessageType.Pong, configEpoch: 11, currentEpoch: 11, slots: bitmapOf([1, 2, 5]), gossip: [], hostname: '', shardId: added.shardId });
  t.equal(state.owner[5], added);
  t.same(lost, [[5]]);

  // An UPDATE about a known node with a newer epoch is applied.
  gossip.handle(fakeLink(true, added), { ...peerHeader, type: MessageType.Update, update: { id: peerId, configEpoch: 12, slots: bitmapOf([1, 2, 5, 9]) } });
  t.equal(state.owner[9], added);
  t.equal(added.configEpoch, 12);
  t.equal(state.messagesReceived.get('update'), 1);
  t.equal(state.messagesReceived.get('meet'), 1);

  // A FAIL from a known node is believed.
  const third = new ClusterNode(randomNodeId(), NodeFlag.Master);
  state.addNode(third);
  gossip.handle(fakeLink(true, added), { ...peerHeader, type: MessageType.Fail, failing: third.id });
  t.ok(third.flags & NodeFlag.Fail);
});

t.test('six buses met in a chain form one cluster', async (t) => {
  const nodes: TestNode[] = [];
  t.teardown(async () => {
    await Promise.all(nodes.map((n) => n.bus.stop()));
  });
  for (let i = 0; i < 6; i++) nodes.push(await startNode(30001 + i));
  for (let i = 0; i + 1 < nodes.length; i++) {
    t.ok(nodes[i].bus.meet('127.0.0.1', nodes[i + 1].state.myself.port, nodes[i + 1].bus.port));
  }
  const ids = nodes.map((n) => n.state.myself.id);
  const knowsEveryone = (n: TestNode) =>
    n.state.nodes.size === 6 &&
    ids.every((id) => {
      const known = n.state.node(id);
      if (known === n.state.myself) return true;
      return known !== undefined && !(known.flags & NodeFlag.Handshake) && known.linkConnected && known.pongReceived > 0;
    });
  await waitFor('every node to know all six', () => nodes.every(knowsEveryone));
  for (const [i, n] of nodes.entries()) {
    t.equal(n.state.myself.ip, '127.0.0.1', `node ${i} learnt its own ip`);
    for (const other of nodes) {
      if (other === n) continue;
      const seen = n.state.node(other.state.myself.id)!;
      t.equal(seen.address, `127.0.0.1:${other.state.myself.port}@${other.bus.port}`, `node ${i} knows the address of ${other.state.myself.id}`);
      t.ok(seen.isMaster);
    }
  }
  t.ok(nodes[0].bus.links().some((l) => l.direction === 'to' && l.node === ids[5]), 'CLUSTER LINKS lists outbound links');
  t.ok(nodes[0].bus.links().some((l) => l.direction === 'from'), 'and inbound ones');
  t.ok((nodes[0].state.messagesSent.get('ping') ?? 0) > 0);
  t.ok((nodes[0].state.messagesReceived.get('pong') ?? 0) > 0);

  // Three masters take a third of the slots each.
  const thirds = [
    [0, 5460],
    [5461, 10922],
    [10923, 16383],
  ];
  for (const [i, [from, to]] of thirds.entries()) {
    const { state } = nodes[i];
    for (let s = from; s <= to; s++) state.assignSlot(state.myself, s);
    state.bumpEpochWithoutConsensus();
  }
  const ownerOf = (slot: number) => ids[thirds.findIndex(([from, to]) => slot >= from && slot <= to)];
  await waitFor('the slots to propagate', () =>
    nodes.every((n) => {
      for (let s = 0; s < SLOTS; s += 1) if (n.state.owner[s]?.id !== ownerOf(s)) return false;
      return true;
    }),
  );
  await waitFor('the cluster state to be ok', () => nodes.every((n) => n.state.state === 'ok'));
  t.pass('every node sees the same owner for every slot');

  // Two masters forced onto one configEpoch: the one with the smaller id moves.
  const collide = Math.max(...nodes.map((n) => n.state.currentEpoch)) + 5;
  for (const n of [nodes[3], nodes[4]]) {
    n.state.currentEpoch = collide;
    n.state.myself.configEpoch = collide;
    n.state.changed();
  }
  const epochsDistinct = () => new Set(nodes.map((n) => n.state.myself.configEpoch)).size === nodes.length;
  await waitFor('configEpochs to become distinct', epochsDistinct);
  await waitFor('every node to agree on the epochs', () =>
    nodes.every((n) => nodes.every((o) => n.state.node(o.state.myself.id)!.configEpoch === o.state.myself.configEpoch)),
  );
  t.ok(epochsDistinct(), 'the collision resolved to distinct epochs');

  // A node that goes away is flagged PFAIL, then FAIL once a majority of masters reports it.
  const gone = nodes[5];
  await gone.bus.stop();
  const goneId = gone.state.myself.id;
  const survivors = nodes.slice(0, 5);
  await waitFor('the others to flag the stopped node', () =>
    survivors.every((n) => (n.state.node(goneId)!.flags & (NodeFlag.PFail | NodeFlag.Fail)) !== 0),
  );
  t.pass('every other node flagged the stopped node PFAIL');
  await waitFor('FAIL by majority', () => survivors.every((n) => (n.state.node(goneId)!.flags & NodeFlag.Fail) !== 0));
  t.ok((survivors[0].state.messagesReceived.get('fail') ?? 0) + (survivors[0].state.messagesSent.get('fail') ?? 0) > 0, 'FAIL was broadcast');
  await waitFor('the survivors to see each other up', () =>
    survivors.every((n) => survivors.every((o) => !(n.state.node(o.state.myself.id)!.flags & (NodeFlag.PFail | NodeFlag.Fail)))),
  );
  t.pass('the survivors see each other up');
});

/** Sends bytes on a fresh connection and waits until the peer closes it or a short while passes. */
async function sendRaw(port: number, chunks: Buffer[]): Promise<void> {
  await new Promise<void>((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 300);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('data', () => {});
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        await sleep(1);
      }
      socket.end();
    });
  });
}

/** Sends one frame and returns the first frame answered. */
async function exchange(port: number, frame: Buffer, chunkSize: number): Promise<BusMessage> {
  return await new Promise<BusMessage>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const decoder = new FrameDecoder();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer'));
    }, 3000);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      const [message] = decoder.push(chunk);
      if (message) {
        clearTimeout(timer);
        socket.destroy();
        resolve(message);
      }
    });
    socket.on('connect', async () => {
      for (let at = 0; at < frame.length; at += chunkSize) {
        socket.write(frame.subarray(at, at + chunkSize));
        await sleep(0);
      }
    });
  });
}

t.test('fuzzing the bus port only closes the offending links', async (t) => {
  const a = await startNode(31001);
  const b = await startNode(31002);
  t.teardown(async () => {
    await Promise.all([a.bus.stop(), b.bus.stop()]);
  });
  a.bus.meet('127.0.0.1', b.state.myself.port, b.bus.port);
  await waitFor('a and b to know each other', () => {
    const ba = a.state.node(b.state.myself.id);
    const ab = b.state.node(a.state.myself.id);
    return !!ba && !!ab && ba.pongReceived > 0 && ab.pongReceived > 0;
  });

  const random = prng(0x5eed);
  const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const validFrame = encodeFrame(pingFrom(b));
  const packr = new Packr({ useRecords: false });
  const valid = new Unpackr({ useRecords: false, mapsAsObjects: true }).unpack(validFrame.subarray(4)) as Record<string, unknown>;
  const wrongValues: unknown[] = [null, -1, 2 ** 60, 'x'.repeat(100), [], {}, Buffer.alloc(3), true, 1.5];
  const deepNesting = Buffer.alloc(300_000, 0x91);
  deepNesting[deepNesting.length - 1] = 0xc0;

  const cases: Buffer[][] = [
    [frameBody(deepNesting)],
    [Buffer.from([0xff, 0xff, 0xff, 0xff])],
    [Buffer.from([0, 0, 0, 0])],
    [frameBody(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 1]))],
    [frameBody(Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff, 0x41]))],
  ];
  for (let i = 0; i < 150; i++) {
    switch (i % 6) {
      case 0:
        cases.push([randomBytes(1 + Math.floor(random() * 3000))]);
        break;
      case 1:
        cases.push([validFrame.subarray(0, Math.floor(random() * validFrame.length))]);
        break;
      case 2:
        cases.push([frameBody(randomBytes(1 + Math.floor(random() * 3000)))]);
        break;
      case 3: {
        const fields = Object.keys(valid);
        const field = fields[Math.floor(random() * fields.length)];
        const value = wrongValues[Math.floor(random() * wrongValues.length)];
        cases.push([frameBody(packr.pack({ ...valid, [field]: value }))]);
        break;
      }
      case 4: {
        const flipped = Buffer.from(validFrame);
        for (let k = 0; k < 3; k++) flipped[4 + Math.floor(random() * (flipped.length - 4))] ^= 1 << Math.floor(random() * 8);
        cases.push([flipped]);
        break;
      }
      default: {
        const shape = [random(), 'text', [1, [2, [3]]], { v: 1, type: Math.floor(random() * 20) }][i % 4];
        cases.push([frameBody(packr.pack(shape)), randomBytes(50)]);
      }
    }
  }
  const started = Date.now();
  const concurrency = 10;
  for (let at = 0; at < cases.length; at += concurrency) {
    await Promise.all(cases.slice(at, at + concurrency).map((chunks) => sendRaw(a.bus.port, chunks)));
  }
  t.ok(Date.now() - started < 60_000, 'the fuzz run is bounded');
  t.ok(a.logs.some((line) => line.startsWith('warning Bad message')), 'bad frames are logged');
  t.notOk(
    a.logs.some((line) => line.startsWith('warning Error handling') || line.startsWith('warning Cluster cron failed')),
    'no decoded message made the handling throw',
  );

  // The bus still answers a well-formed PING from a known node, even one cut into tiny pieces.
  const answer = await exchange(a.bus.port, encodeFrame(pingFrom(b)), 7);
  t.equal(answer.type, MessageType.Pong);
  t.equal(answer.sender, a.state.myself.id);
  t.ok(a.state.node(b.state.myself.id), 'a still knows b');
  const before = a.state.messagesReceived.get('ping') ?? 0;
  await waitFor('b to keep pinging a', () => (a.state.messagesReceived.get('ping') ?? 0) > before, 5000);
});
