import { uuidv7 } from './ids';

describe('uuidv7', () => {
  it('has the RFC 9562 layout and encodes the timestamp', () => {
    const id = uuidv7(0x0190f0c46b1e);
    expect(id).toMatch(/^0190f0c4-6b1e-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('is unique and sorts by time', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
  });
});
