import { Writable } from 'node:stream';
import { createLogger } from './logger';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('binds the service, labels levels and redacts credentials', () => {
    const { lines, stream } = capture();
    const log = createLogger({ service: 'gateway', level: 'info', destination: stream });
    log
      .child({ component: 'nats' })
      .info({ options: { password: 'hunter2', user: 'u' } }, 'connecting');
    log.debug('hidden');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      service: 'gateway',
      component: 'nats',
      level: 'info',
      msg: 'connecting',
      options: { password: '[redacted]', user: 'u' },
    });
    expect(typeof lines[0]!.time).toBe('string');
  });
});
