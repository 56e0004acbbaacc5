// The baseline of bench:ingest: a bare aedes 1.x broker (no auth, no hooks, no storage) on the
// given port. Whatever the ingest service reaches is compared with what this reaches.
const net = require('node:net');
const { Aedes } = require('aedes');

(async () => {
  const broker = await Aedes.createBroker({ concurrency: 1000 });
  const server = net.createServer(broker.handle);
  server.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => server.close(() => broker.close(() => process.exit(0))));
})();
