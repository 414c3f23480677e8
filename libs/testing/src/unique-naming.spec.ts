import { Naming } from '@cb/subjects';
import { uniqueNaming } from './unique-naming';

describe('uniqueNaming', () => {
  it('builds a Naming with a random t<hex> prefix and the matching T<HEX>_EVENTS stream', () => {
    const naming = uniqueNaming();
    expect(naming).toBeInstanceOf(Naming);
    expect(naming.prefix).toMatch(/^t[0-9a-f]{8}$/);
    expect(naming.stream).toBe(`T${naming.prefix.slice(1).toUpperCase()}_EVENTS`);
    expect(naming.partitions).toBe(8);
  });

  it('takes the partition count', () => {
    expect(uniqueNaming(3).partitions).toBe(3);
  });

  it('does not repeat itself', () => {
    const prefixes = new Set(Array.from({ length: 200 }, () => uniqueNaming().prefix));
    expect(prefixes.size).toBe(200);
  });
});
