import { ConfigError } from '@cb/config';
import { loadProjectionConfig, maxAckWaitMs } from './config';

describe('projection config: lease TTL and ack wait', () => {
  it('by default takes a killed worker’s partitions over after 2 s, with a 0.75 s ack wait', () => {
    const config = loadProjectionConfig({});
    expect(config.PROJECTION_LEASE_TTL_MS).toBe(2000);
    expect(config.PROJECTION_ACK_WAIT_MS).toBe(750);
    expect(config.PROJECTION_ACK_WAIT_MS).toBeLessThanOrEqual(maxAckWaitMs(2000));
  });

  it('allows an ack wait whose redeliveries come before the takeover: back-off (2 × ack wait) ≤ 75 % of the TTL', () => {
    expect(maxAckWaitMs(3000)).toBe(1125);
    expect(maxAckWaitMs(10_000)).toBe(3750);
    expect(
      loadProjectionConfig({ PROJECTION_LEASE_TTL_MS: '3000', PROJECTION_ACK_WAIT_MS: '1125' })
        .PROJECTION_ACK_WAIT_MS,
    ).toBe(1125);
  });

  it('refuses a longer ack wait, naming both variables and the limit', () => {
    const load = (): unknown =>
      loadProjectionConfig({ PROJECTION_LEASE_TTL_MS: '3000', PROJECTION_ACK_WAIT_MS: '1126' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      /PROJECTION_ACK_WAIT_MS=1126 is invalid: with PROJECTION_LEASE_TTL_MS=3000 it may be at most 1125/,
    );
  });
});
