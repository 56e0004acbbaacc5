import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real RFC 3161 time-stamping authority for tests: OpenSSL's `ts -reply` behind a small HTTP
 * front (RFC 3161 §3.4), with a throwaway CA and a TSA certificate (extendedKeyUsage
 * timeStamping, critical) made for the run.
 */
export class TsaServer {
  private constructor(
    private readonly server: Server,
    readonly dir: string,
    readonly url: string,
    readonly requests: { count: number },
  ) {}

  get caFile(): string {
    return join(this.dir, 'ca.pem');
  }

  static async start(): Promise<TsaServer> {
    const dir = mkdtempSync(join(tmpdir(), 'dustwatch-tsa-'));
    const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      '/CN=Dustwatch test CA',
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    );
    openssl('req', ...ec, '-keyout', 'tsa.key', '-out', 'tsa.csr', '-subj', '/CN=Dustwatch test TSA');
    writeFileSync(
      join(dir, 'tsa.ext'),
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n',
    );
    openssl(
      'x509',
      '-req',
      '-in',
      'tsa.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'tsa.pem',
      '-days',
      '2',
      '-extfile',
      'tsa.ext',
    );
    writeFileSync(join(dir, 'tsaserial'), '01\n');
    writeFileSync(
      join(dir, 'tsa.cnf'),
      [
        '[ tsa ]',
        'default_tsa = tsa_config',
        '[ tsa_config ]',
        `serial = ${join(dir, 'tsaserial')}`,
        'crypto_device = builtin',
        `signer_cert = ${join(dir, 'tsa.pem')}`,
        `certs = ${join(dir, 'ca.pem')}`,
        `signer_key = ${join(dir, 'tsa.key')}`,
        'signer_digest = sha256',
        'default_policy = 1.2.3.4.1',
        'digests = sha256',
        'accuracy = secs:1',
        'ordering = yes',
        'tsa_name = no',
        'ess_cert_id_chain = no',
        'ess_cert_id_alg = sha256',
        '',
      ].join('\n'),
    );
    const requests = { count: 0 };
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        requests.count += 1;
        const n = requests.count;
        try {
          writeFileSync(join(dir, `q${n}.tsq`), Buffer.concat(chunks));
          openssl('ts', '-reply', '-config', 'tsa.cnf', '-queryfile', `q${n}.tsq`, '-out', `r${n}.tsr`);
          res
            .writeHead(200, { 'content-type': 'application/timestamp-reply' })
            .end(readFileSync(join(dir, `r${n}.tsr`)));
        } catch (error) {
          res.writeHead(500).end((error as Error).message);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new TsaServer(server, dir, `http://127.0.0.1:${port}/tsa`, requests);
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
