import { findUnsafeNumbers } from './number-scan';

const scan = (text: string): Array<[string, string]> => {
  JSON.parse(text); // the scanner is only ever given valid JSON
  return findUnsafeNumbers(text).map((p) => [p.pointer, p.kind]);
};

describe('findUnsafeNumbers', () => {
  it('passes ordinary numbers, also near the limits', () => {
    expect(
      scan(
        '{"a":1,"b":-2.5,"c":1e308,"d":-1.7976931348623157e308,"e":5e-324,"f":9007199254740991,' +
          '"g":-9007199254740991,"h":0,"i":-0,"j":0.0,"k":0e-999,"l":1.5e-300,"m":123456789012345}',
      ),
    ).toEqual([]);
  });

  it('finds overflow to Infinity, with the pointer of the number', () => {
    expect(scan('{"data":{"keep":1e400}}')).toEqual([['/data/keep', 'overflow']]);
    expect(scan('{"x":-1e309}')).toEqual([['/x', 'overflow']]);
    expect(scan(`{"x":${'9'.repeat(400)}}`)).toEqual([['/x', 'overflow']]);
  });

  it('finds a non-zero literal that underflows to 0, but not a written zero', () => {
    expect(scan('{"a":1e-400,"b":-2E-999,"c":0e-400,"d":0.000e-500}')).toEqual([
      ['/a', 'underflow'],
      ['/b', 'underflow'],
    ]);
    expect(scan(`{"a":0.${'0'.repeat(400)}1}`)).toEqual([['/a', 'underflow']]);
  });

  it('finds integers beyond ±(2^53−1) but not doubles written with a fraction or exponent', () => {
    expect(
      scan('[9007199254740992,9007199254740993,-9007199254740993,12345678901234567890]'),
    ).toEqual([
      ['/0', 'unsafe-integer'],
      ['/1', 'unsafe-integer'],
      ['/2', 'unsafe-integer'],
      ['/3', 'unsafe-integer'],
    ]);
    expect(scan('[9007199254740993.5,9.007199254740993e15,1e20]')).toEqual([]);
  });

  it('never looks at digits or exponents inside strings, escapes included', () => {
    expect(
      scan(
        '{"s":"1e400","t":"9007199254740993","u":"say \\"1e999\\"","v":"\\\\","w":1,' +
          '"1e400":"9007199254740993","x\\"y":[1e-999]}',
      ),
    ).toEqual([['/x"y/0', 'underflow']]);
  });

  it('keys with escapes and pointer characters are decoded and escaped (RFC 6901)', () => {
    expect(scan('{"a/b":{"m~n":{"\\u00e9":[0,[1,2e999]]}}}')).toEqual([
      ['/a~1b/m~0n/é/1/1', 'overflow'],
    ]);
  });

  it('tracks arrays and objects nested in each other, and commas in strings', () => {
    const text = JSON.stringify({
      list: [{ a: 'x,y', b: [1, 2, { c: 3 }] }, 'z]', { d: 4 }],
    }).replace('"d":4', '"d":1e400');
    expect(scan(text)).toEqual([['/list/2/d', 'overflow']]);
    expect(scan('[[[],{}],{"a":[1e400]}]')).toEqual([['/1/a/0', 'overflow']]);
  });

  it('a top-level number has the empty pointer', () => {
    expect(scan('1e400')).toEqual([['', 'overflow']]);
  });

  it('reports at most the limit, in document order, with long literals cut', () => {
    const text = `[${Array.from({ length: 50 }, () => '1e999').join(',')}]`;
    const found = findUnsafeNumbers(text, 3);
    expect(found.map((p) => p.pointer)).toEqual(['/0', '/1', '/2']);
    const long = findUnsafeNumbers(`[${'9'.repeat(1000)}]`)[0];
    expect(long?.literal.length).toBeLessThanOrEqual(41);
  });

  it('scans a large hostile body in linear time', () => {
    // 200 KB of strings full of backslashes and digits, and one bad number at the end.
    const item = `"${'\\\\'.repeat(20)}12345678901234567 \\" 1e999"`;
    const text = `{"a":[${Array.from({ length: 2000 }, () => item).join(',')}],"b":1e999}`;
    const started = process.hrtime.bigint();
    expect(scan(text)).toEqual([['/b', 'overflow']]);
    // Generous: the point is that it is not quadratic (that would take seconds).
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(2000);
  });
});
