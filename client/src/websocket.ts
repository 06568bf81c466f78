/** The browser's WebSocket, or Node's (22+); on Node 20, the `ws` package, loaded only then. */
export type WebSocketConstructor = new (url: string) => WebSocket;

export async function resolveWebSocket(given?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (given) return given;
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  // ws speaks the same EventTarget API (text frames arrive as strings); its types are its own
  const { WebSocket } = await import('ws');
  return WebSocket as unknown as WebSocketConstructor;
}
