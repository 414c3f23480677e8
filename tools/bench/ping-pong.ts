import { LeanConnection } from './lean-http';

/** One token of a ping-pong workflow and the keep-alive connection that fires it. */
export interface PingPongPlayer {
  workflowId: string;
  id: string;
  next: 'hit' | 'back';
  conn: LeanConnection;
}

export async function newPlayer(
  workflowId: string,
  tokenId: string,
  port: number,
  /** `Bearer <credential>` the player fires with. */
  authorization: string,
): Promise<PingPongPlayer> {
  return {
    workflowId,
    id: tokenId,
    next: 'hit',
    conn: await LeanConnection.open('127.0.0.1', port, authorization),
  };
}

/** Fire the player's next transition; true when it answered 200. */
export async function play(p: PingPongPlayer): Promise<boolean> {
  const res = await p.conn.request(
    'POST',
    `/v1/workflows/${p.workflowId}/tokens/${p.id}/fire`,
    JSON.stringify({ transition: p.next }),
  );
  if (res.status !== 200) return false;
  p.next = p.next === 'hit' ? 'back' : 'hit';
  return true;
}
