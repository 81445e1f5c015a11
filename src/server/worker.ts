/**
 * Worker thread entry: takes the client sockets the coordinator hands over
 * and serves them on the shared store.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Socket } from 'node:net';
import { WorkerRuntime } from './worker-runtime.js';
import { Connection } from './connection.js';
import type { ToWorker, WorkerInit } from './thread-messages.js';
import { configureLog, log, setLogRole } from './log.js';

const init = workerData as WorkerInit;
setLogRole('M');
configureLog(init.config.find(([k]) => k === 'loglevel')?.[1] ?? 'notice', init.config.find(([k]) => k === 'logfile')?.[1] ?? '');
const rt = new WorkerRuntime(init);
rt.start();

parentPort!.on('message', (m: ToWorker) => {
  if (m.type === 'socket') {
    const socket = m.socket as Socket;
    const conn = new Connection(socket, m.id, rt);
    rt.connectionOpened(conn);
    socket.resume();
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
