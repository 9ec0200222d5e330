// A WebSocket echo server on Node's `ws` (npm): the peer of the WebSocket
// figure in bench/bench_http.c, which installs `ws` into a temporary
// directory with npm, runs `node ws-echo.js` with NODE_PATH pointing
// there, reads "listening on PORT" and stops it by its PID.  Every
// message comes back as it came (text or binary); permessage-deflate is
// off, as the bench's client does not offer it.
'use strict';
const { WebSocketServer } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false,
                                  maxPayload: 16 << 20 });
wss.on('listening', () => {
    process.stdout.write(`listening on ${wss.address().port}\n`);
});
wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
process.on('SIGTERM', () => {
    for (const c of wss.clients)
        c.terminate();
    wss.close(() => process.exit(0));
});
