import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { createApi } from '../src-shared/contract';

// The window API is the contract mapped to IPC: one method per command, one `onXxx` per event. No
// generic send/invoke/on and no Electron event object reach the page.
const api = createApi({
  invoke: (channel, request) => ipcRenderer.invoke(channel, request),
  subscribe: (channel, listener) => {
    const handler = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => ipcRenderer.off(channel, handler);
  },
});

contextBridge.exposeInMainWorld('covseg', api);
