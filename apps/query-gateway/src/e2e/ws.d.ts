/** The `ws` package ships no types (and @types/ws is not a dependency): what the tests use of it. */
declare module 'ws' {
  class WebSocket {
    static readonly OPEN: number;
    constructor(url: string, protocols?: string | string[]);
    on(event: 'close', fn: (code: number, reason: Buffer) => void): this;
    close(code?: number, reason?: string): void;
  }
  export default WebSocket;
}
