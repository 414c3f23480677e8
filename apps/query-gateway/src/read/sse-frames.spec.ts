import type { SequencedEvent } from '@cb/schemas';
import { cutoffFrame, eventFrame, heartbeatFrame, preambleFrame } from './sse-frames';

const event = {
  seq: 42,
  event: { type: 'token.deleted.v1', tokenId: 't', text: 'two\nlines' },
} as unknown as SequencedEvent;

describe('SSE frames', () => {
  it('an event: id = seq, event = type, data = { seq, event } on one line', () => {
    const frame = eventFrame(event);
    expect(frame.seq).toBe(42);
    expect(frame.bytes.toString()).toBe(
      `id: 42\nevent: token.deleted.v1\ndata: ${JSON.stringify(event)}\n\n`,
    );
    // A newline inside the data stays escaped: one data line, one frame.
    expect(frame.bytes.toString().split('\n\n')).toEqual([expect.any(String), '']);
  });

  it('a cut-off carries the reason and the id to resume after, as its own id', () => {
    expect(cutoffFrame('slow-client', 17).toString()).toBe(
      'id: 17\nevent: cutoff\ndata: {"reason":"slow-client","lastEventId":17}\n\n',
    );
  });

  it('the preamble sets the retry delay; heartbeats are comments', () => {
    expect(preambleFrame('cb.tok.*.wf.*', undefined).toString()).toBe(
      'retry: 2000\n: streaming cb.tok.*.wf.* after seq now\n\n',
    );
    expect(preambleFrame('cb.tok.1.wf.t', 7).toString()).toMatch(/after seq 7\n\n$/);
    expect(heartbeatFrame(123).toString()).toBe(': heartbeat 123\n\n');
  });
});
