import { ConfigError } from '@cb/config';
import { loadAutomationConfig } from './config';

describe('automation config', () => {
  it('by default takes a killed worker’s timers over after 2 s, with a 0.75 s ack wait', () => {
    const config = loadAutomationConfig({});
    expect(config.AUTOMATION_LEASE_TTL_MS).toBe(2000);
    expect(config.AUTOMATION_ACK_WAIT_MS).toBe(750);
    expect(config.AUTOMATION_HTTP_PORT).toBe(9104);
    expect(config.AUTOMATION_FIRE_CONCURRENCY).toBe(32);
  });

  it('refuses an ack wait that is not below the lease TTL, naming both variables', () => {
    const load = (): unknown =>
      loadAutomationConfig({ AUTOMATION_LEASE_TTL_MS: '2000', AUTOMATION_ACK_WAIT_MS: '2000' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      /AUTOMATION_ACK_WAIT_MS=2000 is invalid: it must be below AUTOMATION_LEASE_TTL_MS=2000/,
    );
  });

  it('delivers webhooks safely by default: no private targets, 8 attempts from 1 s doubling, 5 s timeout', () => {
    const config = loadAutomationConfig({});
    expect(config.WEBHOOK_ALLOW_PRIVATE_NETWORKS).toBe(false);
    expect(config.WEBHOOK_RETRY_BASE_MS).toBe(1000);
    expect(config.WEBHOOK_RETRY_MAX_MS).toBe(600_000);
    expect(config.WEBHOOK_MAX_ATTEMPTS).toBe(8);
    expect(config.WEBHOOK_FAILING_AFTER).toBe(5);
    expect(config.WEBHOOK_TIMEOUT_MS).toBe(5000);
    expect(
      loadAutomationConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' })
        .WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    ).toBe(true);
    expect(() =>
      loadAutomationConfig({ WEBHOOK_RETRY_BASE_MS: '5000', WEBHOOK_RETRY_MAX_MS: '1000' }),
    ).toThrow(/WEBHOOK_RETRY_MAX_MS=1000 is invalid/);
  });

  it.each([
    ['WEBHOOK_MAX_ATTEMPTS', '0'],
    ['WEBHOOK_ALLOW_PRIVATE_NETWORKS', 'maybe'],
    ['WEBHOOK_TIMEOUT_MS', '99'],
    ['AUTOMATION_FIRE_CONCURRENCY', '0'],
    ['AUTOMATION_FIRE_CONCURRENCY', '1025'],
    ['AUTOMATION_LEASE_TTL_MS', '999'],
    ['COMMAND_TIMEOUT_MS', '60001'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadAutomationConfig({ [name]: value })).toThrow(new RegExp(name));
  });
});
