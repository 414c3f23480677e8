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

  it.each([
    ['AUTOMATION_FIRE_CONCURRENCY', '0'],
    ['AUTOMATION_FIRE_CONCURRENCY', '1025'],
    ['AUTOMATION_LEASE_TTL_MS', '999'],
    ['COMMAND_TIMEOUT_MS', '60001'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadAutomationConfig({ [name]: value })).toThrow(new RegExp(name));
  });
});
