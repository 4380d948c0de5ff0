import { createApi, type AppApi, type Result } from '../../../src-shared/contract';

/**
 * The AppApi over HTTP (commands) and one WebSocket (events), for `covseg serve`. In the browser
 * the page never sees the token: opening the printed URL left it in an HttpOnly cookie that the
 * browser sends with same-origin requests and the socket handshake. `token` is for clients outside
 * a browser (tests, scripts), which send it as a bearer header; their `socketFactory` must add it.
 */
export function createHttpApi(options: { token?: string; base?: string; fetchImpl?: typeof fetch; socketFactory?: (url: string) => WebSocket } = {}): AppApi {
  const base = options.base ?? '';
  const doFetch = options.fetchImpl ?? ((input, init) => fetch(input, init));
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let socket: WebSocket | undefined;

  function connect(): void {
    if (socket) return;
    const origin = base || window.location.origin;
    const url = `${origin.replace(/^http/, 'ws')}/events`;
    socket = (options.socketFactory ?? ((u: string) => new WebSocket(u)))(url);
    socket.onmessage = (message) => {
      const { channel, payload } = JSON.parse(String(message.data)) as { channel: string; payload: unknown };
      for (const listener of listeners.get(channel) ?? []) listener(payload);
    };
    socket.onclose = () => {
      socket = undefined;
      // Reconnect while anyone listens: the server may restart or the network blip.
      if ([...listeners.values()].some((set) => set.size > 0)) setTimeout(connect, 1000);
    };
  }

  return createApi({
    invoke: async (channel, request) => {
      const response = await doFetch(`${base}/api/${channel.replace(':', '/')}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}) },
        body: JSON.stringify(request ?? {}),
        credentials: 'same-origin',
      });
      if (response.status === 401) return { ok: false, error: { code: 'forbidden', message: 'the server refused the token: open the URL `covseg serve` printed' } } as Result<unknown>;
      return (await response.json()) as Result<unknown>;
    },
    subscribe: (channel, listener) => {
      const set = listeners.get(channel) ?? new Set();
      set.add(listener);
      listeners.set(channel, set);
      connect();
      return () => set.delete(listener);
    },
  });
}
