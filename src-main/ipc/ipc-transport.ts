import { BrowserWindow, ipcMain, type WebContents } from 'electron';
import { COMMAND_CHANNELS, fail, type EventChannel } from '../../src-shared/contract';
import { isTrustedSenderUrl } from '../security/trusted-sender';
import type { AppServices } from '../services/app-services';

/**
 * Binds every contract command to `ipcMain.handle`, accepting messages only from this app's own
 * windows, and there only from frames showing one of `trustedOrigins` (an iframe or a page
 * navigated elsewhere inside our window is refused). A transport only: each call goes to
 * `services.dispatch`, which validates it.
 */
export function bindIpc(services: AppServices, trustedOrigins: readonly string[]): () => void {
  const ours = (sender: WebContents) => BrowserWindow.getAllWindows().some((w) => w.webContents.id === sender.id);
  for (const channel of COMMAND_CHANNELS) {
    ipcMain.handle(channel, async (event, request: unknown) => {
      if (!ours(event.sender) || !isTrustedSenderUrl(event.senderFrame?.url, trustedOrigins)) return fail({ code: 'forbidden', message: 'messages are accepted from CovSeg windows only' });
      return services.dispatch(channel, request);
    });
  }
  return () => COMMAND_CHANNELS.forEach((channel) => ipcMain.removeHandler(channel));
}

/** Pushes an event to every window. */
export function emitToWindows(channel: EventChannel, payload: unknown): void {
  for (const window of BrowserWindow.getAllWindows()) window.webContents.send(channel, payload);
}
