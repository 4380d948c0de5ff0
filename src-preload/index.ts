import { contextBridge } from 'electron';

// The window API is derived from the typed contract once it exists; until then only the app version.
contextBridge.exposeInMainWorld('covseg', { version: '0.1.0' });
