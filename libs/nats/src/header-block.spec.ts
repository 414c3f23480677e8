import { headers as natsHeaders } from '@nats-io/transport-node';
import { HeaderBlock } from './header-block';
import { isLiteralSubject } from './js-wire';

const encoder = new TextEncoder();

describe('HeaderBlock', () => {
  it('reads the status line and the headers asked for, as nats.js does', () => {
    const h = natsHeaders(404, 'Message Not Found');
    h.set('Nats-Sequence', '42');
    h.set('Cb-Command-Hash', 'a:b:c');
    h.append('Nats-Sequence', '43');
    const bytes = (h as unknown as { encode(): Uint8Array }).encode();
    const block = HeaderBlock.decode(bytes);
    expect(block.code).toBe(404);
    expect(block.description).toBe('Message Not Found');
    expect(block.get('Nats-Sequence')).toBe(h.get('Nats-Sequence'));
    expect(block.get('Cb-Command-Hash')).toBe('a:b:c');
    expect(block.get('Nats-Subject')).toBe('');
  });

  it('has no status without a status line and matches names exactly', () => {
    const block = HeaderBlock.decode(
      encoder.encode('NATS/1.0\r\nNats-Subject: $KV.b.k\r\nKV-Operation:  DEL \r\n\r\n'),
    );
    expect(block.code).toBe(0);
    expect(block.description).toBe('');
    expect(block.get('KV-Operation')).toBe('DEL');
    expect(block.get('kv-operation')).toBe('');
    // A name that is the tail of another name is not that name.
    expect(block.get('Subject')).toBe('');
    expect(block.get('Nats-Subject')).toBe('$KV.b.k');
  });

  it('reads a status line with a code only and UTF-8 values', () => {
    const block = HeaderBlock.decode(encoder.encode('NATS/1.0 503\r\nCb-Who: Zoë\r\n\r\n'));
    expect(block.code).toBe(503);
    expect(block.description).toBe('');
    expect(block.get('Cb-Who')).toBe('Zoë');
  });
});

describe('isLiteralSubject', () => {
  it.each([
    ['cb.tok.1.wf.t-1', true],
    ['$KV.bucket.key', true],
    ['a.b*.c', true],
    ['cb.tok.*.wf.t-1', false],
    ['cb.tok.>', false],
    ['*', false],
    ['a..b', false],
    ['.a', false],
    ['a.', false],
    ['a b', false],
    ['', false],
  ])('%s → %s', (subject, literal) => {
    expect(isLiteralSubject(subject)).toBe(literal);
  });
});
