/**
 * Worker thread entry: takes the client sockets the coordinator hands over
 * and serves them on the shared store.
 */
import { parentPort, workerData } from 'node:worker_threads';
import net, { type Socket } from 'node:net';
import { WorkerRuntime } from './worker-runtime.js';
import { Connection } from './connection.js';
import type { ToWorker, WorkerInit } from './thread-messages.js';
import { configureLog, log, setLogRole } from './log.js';

const init = workerData as WorkerInit;
setLogRole('M');
configureLog(init.config.find(([k]) => k === 'loglevel')?.[1] ?? 'notice', init.config.find(([k]) => k === 'logfile')?.[1] ?? '');
const rt = new WorkerRuntime(init);
rt.start();

/** Bytes one read may bring: every connection's reads land here in turn, and are used before the next read. */
const RECEIVE_BUFFER_BYTES = 64 << 10;
const receiveBuffer = Buffer.allocUnsafe(RECEIVE_BUFFER_BYTES);

/**
 * The socket the coordinator handed over, rebuilt on its handle to read
 * through `onread` into the worker's receive buffer: no Readable stream,
 * no buffer allocated per read.
 */
function adopt(handed: Socket, id: number): Connection {
  const handle = (handed as unknown as { _handle: unknown })._handle;
  let conn: Connection | null = null;
  const socket = new net.Socket({
    handle, readable: true, writable: true,
    onread: {
      buffer: receiveBuffer,
      callback: (length: number, buffer: Uint8Array) => {
        conn!.onRead(buffer as Buffer, length);
        return true;
      },
    },
  } as net.SocketConstructorOpts);
  conn = new Connection(socket, id, rt);
  return conn;
}

parentPort!.on('message', (m: ToWorker) => {
  if (m.type === 'socket') {
    const conn = adopt(m.socket as Socket, m.id);
    rt.connectionOpened(conn);
    conn.socket.resume();
  } else if (m.type === 'shutdown') {
    rt.stop();
    parentPort!.close();
  } else {
    rt.onMessage(m);
  }
});

process.on('uncaughtException', (err) => {
  log('warning', `Worker ${init.index} uncaught exception: ${err.stack ?? err}`);
});

rt.post({ type: 'ready' });
