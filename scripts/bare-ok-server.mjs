// The floor of a Node.js RESP server: per read, one write of prebuilt +OK
// replies, one per request (requests counted by their '*' bytes). It parses
// nothing, stores nothing and answers GET with +OK too: what a Node.js server
// costs before it does any work. scripts/profile-hot-path runs it beside weft
// and redis-server.
//
// Usage: node scripts/bare-ok-server.mjs --port N
import net from 'node:net';

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const OK = Buffer.from('+OK\r\n'.repeat(4096));
const MULTIBULK = 42; // '*'

net.createServer({ noDelay: true }, (socket) => {
  socket.on('data', (d) => {
    let requests = 0;
    for (let i = d.indexOf(MULTIBULK); i !== -1; i = d.indexOf(MULTIBULK, i + 1)) requests++;
    if (requests > 0) socket.write(OK.subarray(0, 5 * Math.min(requests, 4096)));
  });
  socket.on('error', () => {});
}).listen(port, '127.0.0.1', () => console.log('Ready to accept connections'));
