import { waitFor } from './wait-for';

describe('waitFor', () => {
  it('returns the first value that is neither undefined nor false', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : undefined), { intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('accepts falsy values other than undefined and false', async () => {
    await expect(waitFor(() => 0)).resolves.toBe(0);
    await expect(waitFor(async () => '')).resolves.toBe('');
  });

  it('retries a probe that throws', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        if (++calls < 3) throw new Error('not yet');
        return 'ready';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('ready');
  });

  it('times out with the description and the last error as cause', async () => {
    const started = Date.now();
    const error: unknown = await waitFor(
      () => {
        throw new Error('still missing');
      },
      { timeoutMs: 60, intervalMs: 10, description: 'token t1 in place "done"' },
    ).catch((err: unknown) => err);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /timed out after 60 ms waiting for token t1 in place "done"; last error: still missing/,
    );
    expect((error as Error).cause).toEqual(new Error('still missing'));
  });

  it('times out on a probe that keeps answering false', async () => {
    await expect(waitFor(() => false, { timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(
      'timed out after 20 ms waiting for condition',
    );
  });
});
