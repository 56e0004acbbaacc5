// One load process of bench:connections: holds its share of devices on the embedded broker
// (a process of its own so each has its own descriptor limit). Commands on stdin, one JSON line
// each; answers on stdout, one JSON line each.
//   {"cmd":"connect"}            → {"connected":N,"ms":…}
//   {"cmd":"publish","seconds":S} one reading per device every 10 s, spread evenly → {"acked":…,"errors":…,"latencies":[…]}
//   {"cmd":"await-reconnect"}    → {"reconnectedMs":…} once every device is connected again after a drop
const mqtt = require('mqtt');
const net = require('node:net');
const { readFileSync } = require('node:fs');
const readline = require('node:readline');

const [, , port, file, offset] = process.argv;
const devices = JSON.parse(readFileSync(file, 'utf8'));
const clients = [];
let connected = 0;
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');

async function connect() {
  const t0 = Date.now();
  for (let i = 0; i < devices.length; i += 50) {
    await Promise.all(
      devices.slice(i, i + 50).map(
        (d, k) =>
          new Promise((resolve, reject) => {
            // As behind carriers' NAT: at most 900 devices per source address (127.0.1.x), under
            // the service's per-address cap.
            const localAddress = `127.0.1.${1 + Math.floor((Number(offset) + i + k) / 900)}`;
            const c = new mqtt.MqttClient(
              () => net.createConnection({ host: '127.0.0.1', port: Number(port), localAddress }),
              {
                clientId: d.id,
                username: d.id,
                password: d.secret,
                protocolVersion: 4,
                keepalive: 300,
                // After a restart of the service every device comes back within 1–6 s, as a fleet would.
                reconnectPeriod: 1000 + Math.floor(Math.random() * 5000),
              },
            );
            c.on('connect', () => {
              connected++;
              resolve();
            });
            c.on('close', () => {
              if (c.__wasConnected) connected--;
              c.__wasConnected = false;
            });
            c.on('connect', () => (c.__wasConnected = true));
            c.once('error', reject);
            c.on('error', () => undefined); // refused while the service restarts: it retries
            clients.push(c);
          }),
      ),
    );
  }
  say({ connected, ms: Date.now() - t0 });
}

function publish(seconds) {
  const latencies = [];
  let acked = 0;
  let errors = 0;
  const periodMs = 10_000;
  const started = Date.now();
  const timers = clients.map((c, i) => {
    const id = devices[i].id;
    let n = 0;
    const send = () => {
      const t0 = process.hrtime.bigint();
      const ts = started + i + n++ * periodMs;
      c.publish(`devices/${id}/readings`, `{"ts":${ts},"pm10":${80 + (n % 50)},"pm25":40}`, { qos: 1 }, (e) => {
        if (e) errors++;
        else {
          acked++;
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      });
    };
    const first = setTimeout(
      () => {
        send();
        timers[i] = setInterval(send, periodMs);
      },
      (i / clients.length) * periodMs,
    );
    return first;
  });
  setTimeout(() => {
    for (const t of timers) (clearTimeout(t), clearInterval(t));
    setTimeout(() => say({ acked, errors, latencies }), 2000);
  }, seconds * 1000);
}

function awaitReconnect() {
  const t0 = Date.now();
  const poll = setInterval(() => {
    if (connected === clients.length) {
      clearInterval(poll);
      say({ reconnectedMs: Date.now() - t0 });
    }
  }, 20);
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const msg = JSON.parse(line);
  if (msg.cmd === 'connect') connect().catch((e) => say({ error: e.message }));
  if (msg.cmd === 'publish') publish(msg.seconds);
  if (msg.cmd === 'await-reconnect') awaitReconnect();
  if (msg.cmd === 'exit') {
    for (const c of clients) c.end(true);
    process.exit(0);
  }
});
say({ ready: true });
