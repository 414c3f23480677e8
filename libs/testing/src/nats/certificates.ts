import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a throw-away CA, a server certificate for 127.0.0.1/localhost and a client one. */
export interface TestCertificates {
  caFile: string;
  caKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/**
 * Make a CA and certificates signed by it in `dir` with the openssl command (`/usr/bin/openssl`;
 * `.ci/run` installs it when missing). EC P-256 keys, valid for a day: for tests only.
 */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const file = (name: string): string => join(dir, name);
  const out: TestCertificates = {
    caFile: file('ca.pem'),
    caKeyFile: file('ca-key.pem'),
    serverCertFile: file('server.pem'),
    serverKeyFile: file('server-key.pem'),
    clientCertFile: file('client.pem'),
    clientKeyFile: file('client-key.pem'),
  };
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir, timeout: 30_000 });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(
    'req',
    '-x509',
    ...key,
    '-keyout',
    out.caKeyFile,
    '-out',
    out.caFile,
    '-days',
    '1',
    '-subj',
    '/CN=Circuit Breaker test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const leaf = async (name: string, cert: string, keyFile: string, ext: string) => {
    const csr = file(`${name}.csr`);
    const extFile = file(`${name}.ext`);
    await writeFile(extFile, ext);
    await openssl('req', '-new', ...key, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${name}`);
    await openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      out.caFile,
      '-CAkey',
      out.caKeyFile,
      '-CAcreateserial',
      '-out',
      cert,
      '-days',
      '1',
      '-extfile',
      extFile,
    );
  };
  await leaf(
    'server',
    out.serverCertFile,
    out.serverKeyFile,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  await leaf('client', out.clientCertFile, out.clientKeyFile, 'extendedKeyUsage=clientAuth\n');
  return out;
}
