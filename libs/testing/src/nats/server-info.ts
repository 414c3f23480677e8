import { connect } from 'node:net';

/** The fields of a nats-server INFO line we rely on. */
export interface ServerInfo {
  readonly server_id: string;
  readonly server_name?: string;
  readonly version: string;
  readonly jetstream?: boolean;
}

const MAX_INFO_BYTES = 64 * 1024;

/**
 * Open a TCP connection and read the INFO line nats-server sends first. Nothing is sent back,
 * so the server logs nothing about it.
 */
export function readServerInfo(host: string, port: number, timeoutMs = 1000): Promise<ServerInfo> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = '';
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () =>
      fail(new Error(`no INFO from ${host}:${port} in ${timeoutMs} ms`)),
    );
    socket.once('error', fail);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\r\n');
      if (end < 0) {
        if (buffer.length > MAX_INFO_BYTES) fail(new Error(`${host}:${port} is not a NATS server`));
        return;
      }
      socket.destroy();
      const line = buffer.slice(0, end);
      if (!line.startsWith('INFO ')) {
        reject(new Error(`${host}:${port} is not a NATS server: ${line.slice(0, 80)}`));
        return;
      }
      try {
        resolve(JSON.parse(line.slice(5)) as ServerInfo);
      } catch (err) {
        reject(new Error(`${host}:${port} sent an unreadable INFO line`, { cause: err }));
      }
    });
    socket.once('end', () => fail(new Error(`${host}:${port} closed the connection before INFO`)));
  });
}
