import { choosePorts, parseLocalCluster } from './local-cluster';

describe('parseLocalCluster (CB_LOCAL_CLUSTER)', () => {
  it('unset, empty or 1 is the single server; 3 and 5 are clusters', () => {
    for (const raw of [undefined, '', '  ', '1', ' 1 ']) {
      expect(parseLocalCluster(raw)).toEqual({ nodes: 1 });
    }
    expect(parseLocalCluster('3')).toEqual({ nodes: 3 });
    expect(parseLocalCluster(' 5 ')).toEqual({ nodes: 5 });
  });

  it('refuses even counts, other numbers and words, naming the choices; long values are cut', () => {
    for (const raw of ['0', '2', '4', '6', '7', '03', '3.0', 'three', '-3']) {
      const result = parseLocalCluster(raw);
      expect(result).toEqual({
        error: expect.stringContaining(`CB_LOCAL_CLUSTER=${JSON.stringify(raw)} is invalid`),
      });
      expect((result as { error: string }).error).toMatch(/expected 3 or 5 .* or 1 or unset/);
    }
    expect((parseLocalCluster('9'.repeat(1000)) as { error: string }).error.length).toBeLessThan(
      300,
    );
  });
});

describe('choosePorts', () => {
  const free = (busy: number[]) => async (port: number) => !busy.includes(port);
  const counter = (start: number) => {
    let next = start;
    return async () => next++;
  };

  it('takes the run from the first port when all of it is free, and marks it taken', async () => {
    const taken = new Set<number>();
    expect(await choosePorts(6222, 3, taken, free([]), counter(40000))).toEqual([6222, 6223, 6224]);
    expect([...taken]).toEqual([6222, 6223, 6224]);
  });

  it('takes free ports instead when one of the run is busy or taken already', async () => {
    expect(await choosePorts(6222, 3, new Set(), free([6223]), counter(40000))).toEqual([
      40000, 40001, 40002,
    ]);
    const taken = new Set([8224, 40001]);
    expect(await choosePorts(8222, 3, taken, free([]), counter(40000))).toEqual([
      40000, 40002, 40003,
    ]);
    expect(await choosePorts(65534, 3, new Set(), free([]), counter(50000))).toEqual([
      50000, 50001, 50002,
    ]);
  });
});
