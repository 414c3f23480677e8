import { CommandHealth } from './command-health';

describe('CommandHealth', () => {
  it('is neither answering nor down before the first ping answers, then down after staleMs', () => {
    const health = new CommandHealth(1000, 2000);
    expect({ answering: health.answering(1000), down: health.down(1000) }).toEqual({
      answering: false,
      down: false,
    });
    expect(health.down(3000)).toBe(false);
    expect(health.down(3001)).toBe(true);
  });

  it('answers while a pong is at most staleMs old: one late or lost ping does not flip it', () => {
    const health = new CommandHealth(0, 2000);
    health.pong(100);
    expect(health.answering(100)).toBe(true);
    // The ping of 1100 is lost; the one of 2100 is answered at 2090 + its delay.
    expect(health.answering(2100)).toBe(true);
    health.pong(2050);
    expect(health.answering(4000)).toBe(true);
    expect(health.answering(4051)).toBe(false);
    expect(health.down(4051)).toBe(true);
    // A pong that arrives out of order does not move the clock back.
    health.pong(1500);
    expect(health.down(4051)).toBe(true);
    health.pong(4100);
    expect({ answering: health.answering(4100), down: health.down(4100) }).toEqual({
      answering: true,
      down: false,
    });
  });

  it('is down at once on NO_RESPONDERS, and answering again on the next pong', () => {
    const health = new CommandHealth(0, 2000);
    health.noResponders(10);
    expect({ answering: health.answering(10), down: health.down(10) }).toEqual({
      answering: false,
      down: true,
    });
    health.pong(1000);
    expect(health.answering(1000)).toBe(true);
    health.noResponders(1500);
    expect(health.down(1500)).toBe(true);
    health.pong(2500);
    expect(health.answering(2500)).toBe(true);
  });
});
