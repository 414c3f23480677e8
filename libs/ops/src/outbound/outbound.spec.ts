import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkTargetUrl, guardedLookup, isBlockedAddress, OutboundRefusedError } from './index';

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '100.127.255.255',
    '169.254.169.254',
    '169.254.0.1',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '::1',
    '::',
    '[::1]',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'fe80::1%eth0',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '::ffff:10.1.2.3',
    '0:0:0:0:0:ffff:c0a8:0101',
    '::127.0.0.1',
    '64:ff9b::a9fe:a9fe',
    '2002:7f00:1::1',
    '2002:c0a8:101::',
    'not-an-ip',
    '',
    '127.1',
  ])('blocks %s', (ip) => {
    expect(isBlockedAddress(ip)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.32.0.1',
    '100.128.0.1',
    '192.169.0.1',
    '169.255.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:82b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('allows %s', (ip) => {
    expect(isBlockedAddress(ip)).toBe(false);
  });
});

describe('checkTargetUrl', () => {
  const resolvingTo =
    (...addresses: string[]) =>
    (): Promise<{ address: string; family: number }[]> =>
      Promise.resolve(
        addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
      );
  const strict = { allowPrivate: false, lookup: resolvingTo('93.184.216.34') };

  it('accepts a public http(s) URL', async () => {
    expect(await checkTargetUrl('https://hooks.example.com/in?x=1', strict)).toEqual({ ok: true });
    expect(await checkTargetUrl('http://93.184.216.34:8080/', strict)).toEqual({ ok: true });
    expect(await checkTargetUrl('https://[2606:4700:4700::1111]/', strict)).toEqual({ ok: true });
  });

  it.each([
    ['ftp://example.com/'],
    ['file:///etc/passwd'],
    ['javascript:alert(1)'],
    ['/relative'],
    ['not a url'],
    [''],
    ['https://user:pw@example.com/'],
    ['https://user@example.com/'],
  ])('rejects %s as an invalid URL', async (url) => {
    const result = await checkTargetUrl(url, strict);
    expect(result).toMatchObject({ ok: false, code: 'WEBHOOK_URL_INVALID' });
  });

  it('rejects a URL longer than 2048 characters', async () => {
    const long = `https://example.com/${'a'.repeat(2048)}`;
    expect(await checkTargetUrl(long, strict)).toMatchObject({
      ok: false,
      code: 'WEBHOOK_URL_INVALID',
    });
  });

  it.each([
    ['http://127.0.0.1:9000/'],
    ['http://localhost/'],
    ['http://LOCALHOST./'],
    ['http://app.localhost/'],
    ['http://169.254.169.254/latest/meta-data/'],
    ['http://[::1]/'],
    ['http://[::ffff:127.0.0.1]/'],
    ['http://0x7f.1/'],
    ['http://2130706433/'],
    ['http://10.0.0.5/'],
    ['http://0.0.0.0/'],
  ])('refuses the private target %s', async (url) => {
    const result = await checkTargetUrl(url, strict);
    expect(result).toMatchObject({ ok: false, code: 'WEBHOOK_TARGET_REFUSED' });
  });

  it('refuses a name when ANY of its addresses is blocked', async () => {
    const lookup = resolvingTo('93.184.216.34', '10.0.0.1');
    const result = await checkTargetUrl('https://mixed.example.com/', {
      allowPrivate: false,
      lookup,
    });
    expect(result).toMatchObject({ ok: false, code: 'WEBHOOK_TARGET_REFUSED' });
    if (!result.ok) expect(result.reason).toContain('10.0.0.1');
  });

  it('refuses a name that does not resolve, or whose resolver hangs', async () => {
    const failing = () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    expect(
      await checkTargetUrl('https://nx.example.com/', { allowPrivate: false, lookup: failing }),
    ).toMatchObject({
      ok: false,
      code: 'WEBHOOK_TARGET_REFUSED',
    });
    const hanging = () => new Promise<never>(() => undefined);
    expect(
      await checkTargetUrl('https://slow.example.com/', {
        allowPrivate: false,
        lookup: hanging,
        lookupTimeoutMs: 50,
      }),
    ).toMatchObject({ ok: false, code: 'WEBHOOK_TARGET_REFUSED' });
    expect(
      await checkTargetUrl('https://empty.example.com/', {
        allowPrivate: false,
        lookup: resolvingTo(),
      }),
    ).toMatchObject({
      ok: false,
    });
  });

  it('allows private targets with allowPrivate, but still validates the URL', async () => {
    const open = { allowPrivate: true, lookup: resolvingTo('10.0.0.1') };
    expect(await checkTargetUrl('http://127.0.0.1:9000/hook', open)).toEqual({ ok: true });
    expect(await checkTargetUrl('http://localhost:9000/hook', open)).toEqual({ ok: true });
    expect(await checkTargetUrl('https://internal.example.com/', open)).toEqual({ ok: true });
    expect(await checkTargetUrl('gopher://127.0.0.1/', open)).toMatchObject({
      code: 'WEBHOOK_URL_INVALID',
    });
  });
});

describe('guardedLookup', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = (allowPrivate: boolean): Promise<string> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: 'localhost', port, path: '/', family: 4, lookup: guardedLookup(allowPrivate) },
        (res) => {
          res.resume();
          res.on('end', () => resolve(String(res.statusCode)));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('stops a request whose host name resolves to a blocked address before it connects', async () => {
    let connections = 0;
    const count = (): void => void connections++;
    server.on('connection', count);
    try {
      const failure = await get(false).then(
        () => null,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(OutboundRefusedError);
      expect((failure as OutboundRefusedError).code).toBe('WEBHOOK_TARGET_REFUSED');
      expect(connections).toBe(0);
    } finally {
      server.off('connection', count);
    }
  });

  it('resolves as dns.lookup does when private networks are allowed', async () => {
    expect(await get(true)).toBe('200');
  });

  it('answers both the single-address and the all-addresses forms of lookup', async () => {
    const lookup = guardedLookup(true) as unknown as (
      host: string,
      options: object,
      cb: (err: Error | null, address: unknown, family?: number) => void,
    ) => void;
    const single = await new Promise<unknown[]>((resolve) =>
      lookup('localhost', { family: 4 }, (err, address, family) => resolve([err, address, family])),
    );
    expect(single).toEqual([null, '127.0.0.1', 4]);
    const all = await new Promise<unknown[]>((resolve) =>
      lookup('localhost', { family: 4, all: true }, (err, address) => resolve([err, address])),
    );
    expect(all).toEqual([null, [{ address: '127.0.0.1', family: 4 }]]);
  });
});
