/**
 * CB_LOCAL_CLUSTER: how many nats-server nodes `npm start` runs. 1 (or unset) is the single
 * server; 3 or 5 a JetStream cluster on loopback. Only odd counts: a Raft group keeps working
 * while a majority is up, so 3 nodes survive the loss of one and 5 of two, while 2 survive
 * none and 4 no more than 3 do. Five is JetStream's largest replica count (R5).
 */
export const LOCAL_CLUSTER_SIZES = [3, 5] as const;

export type LocalClusterSize = 1 | (typeof LOCAL_CLUSTER_SIZES)[number];

/** The node count CB_LOCAL_CLUSTER asks for, or the message that refuses it. */
export function parseLocalCluster(
  raw: string | undefined,
): { nodes: LocalClusterSize } | { error: string } {
  const value = raw?.trim() ?? '';
  if (value === '' || value === '1') return { nodes: 1 };
  const size = LOCAL_CLUSTER_SIZES.find((n) => String(n) === value);
  if (size !== undefined) return { nodes: size };
  return {
    error:
      `CB_LOCAL_CLUSTER=${JSON.stringify(value.slice(0, 40))} is invalid: expected 3 or 5 (nodes of a ` +
      'local JetStream cluster: an odd count, so a majority survives losing one or two of them), ' +
      'or 1 or unset for one nats-server',
  };
}

/**
 * `count` ports: `first`, `first + 1` … when every one of them is free (and not in `taken`),
 * else as many free ones from `freePort`. Adds them to `taken`.
 */
export async function choosePorts(
  first: number,
  count: number,
  taken: Set<number>,
  isFree: (port: number) => Promise<boolean>,
  freePort: () => Promise<number>,
): Promise<number[]> {
  const wanted = Array.from({ length: count }, (_, i) => first + i);
  const usable = await Promise.all(
    wanted.map(async (port) => port <= 65535 && !taken.has(port) && (await isFree(port))),
  );
  const ports: number[] = [];
  if (usable.every(Boolean)) ports.push(...wanted);
  else {
    while (ports.length < count) {
      const port = await freePort();
      if (!taken.has(port) && !ports.includes(port)) ports.push(port);
    }
  }
  for (const port of ports) taken.add(port);
  return ports;
}
