import { app, BrowserWindow, dialog, shell } from 'electron';
import { join } from 'node:path';
import { denyPermissions, limitNavigation, registerAppScheme, serveRenderer } from './desktop/harden-electron';
import { bindIpc, emitToWindows } from './ipc/ipc-transport';
import { APP_ENTRY_URL } from './security/app-protocol';
import { devRendererUrl, trustedOrigins } from './security/trusted-sender';
import { createAppServices } from './services/app-services';
import { utilityProcessLauncher } from './utility-process-launcher';

// Electron entry: one hardened window, the contract bound to IPC, the engine in this process and in
// child training processes. The README's "Security" section maps each checklist item to the code.
const DEV_RENDERER_URL = devRendererUrl(process.env.ELECTRON_RENDERER_URL, app.isPackaged);
const TRUSTED_ORIGINS = trustedOrigins(DEV_RENDERER_URL);
registerAppScheme();

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'CovSeg Studio',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
    },
  });
  void window.loadURL(DEV_RENDERER_URL ?? APP_ENTRY_URL);
  return window;
}

void app.whenReady().then(() => {
  serveRenderer(join(import.meta.dirname, '../renderer'));
  denyPermissions();
  limitNavigation(TRUSTED_ORIGINS);
  const services = createAppServices({
    transport: 'electron',
    workspace: join(app.getPath('userData'), 'workspace'),
    allowedRoots: [],
    emit: emitToWindows,
    launcher: utilityProcessLauncher,
    openPath: (path) => shell.openPath(path),
    pickFolder: async () => {
      const window = BrowserWindow.getFocusedWindow();
      const options = { properties: ['openDirectory' as const], title: 'Open a CT dataset folder' };
      const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
  });
  bindIpc(services, TRUSTED_ORIGINS);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  app.on('before-quit', () => services.dispose());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
