import { MAX_SSE_LINE, SseParser } from './sse-parser';

describe('SseParser', () => {
  it('parses the gateway frames: id, event, data', () => {
    const p = new SseParser();
    const frames = p.push(
      'id: 7\nevent: token.created.v1\ndata: {"seq":7}\n\n: heartbeat\n\nid: 8\nevent: token.deleted.v1\ndata: {"seq":8}\n\n',
    );
    expect(frames).toEqual([
      { id: '7', event: 'token.created.v1', data: '{"seq":7}' },
      { id: '8', event: 'token.deleted.v1', data: '{"seq":8}' },
    ]);
    expect(p.lastEventId).toBe('8');
  });

  it('reassembles frames split anywhere, CRLF and lone CR included', () => {
    const text = 'id: 1\r\nevent: a\r\ndata: x\r\n\r\nid: 2\revent: b\rdata: y\r\rdata: z\n\n';
    for (let size = 1; size <= text.length; size++) {
      const p = new SseParser();
      const out = [];
      for (let i = 0; i < text.length; i += size) out.push(...p.push(text.slice(i, i + size)));
      expect(out).toEqual([
        { id: '1', event: 'a', data: 'x' },
        { id: '2', event: 'b', data: 'y' },
        { id: '2', event: 'message', data: 'z' },
      ]);
    }
  });

  it('joins data lines, keeps the value after one space, skips comments and empty frames', () => {
    const p = new SseParser('3');
    expect(p.push('data:a\ndata:  b\n\n: only a comment\n\nevent: x\n\nretry: 2500\n')).toEqual([
      { id: '3', event: 'message', data: 'a\n b' },
    ]);
    expect(p.retryMs).toBe(2500);
  });

  it('does not dispatch a frame before its blank line', () => {
    const p = new SseParser();
    expect(p.push('id: 5\ndata: {}\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ id: '5', event: 'message', data: '{}' }]);
  });

  it('refuses an endless line instead of buffering it', () => {
    const p = new SseParser();
    expect(() => p.push('data: ' + 'x'.repeat(MAX_SSE_LINE + 1))).toThrow(/too long/);
  });
});
