/**
 * IPC: the contract's channels answered by the handlers, only for the app's own window. Any
 * message from another frame or page (a navigation that slipped through, an injected frame) is
 * refused before it reaches a handler.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { INVOKE_CHANNELS } from '../contract.ts';
import type { Handlers } from './handlers.ts';

/** True when an IPC message comes from the app's details window, showing the app's own page. */
export type SenderCheck = (event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>) => boolean;

/** A sender check for windows whose webContents ids are `ids()` and whose page is `pageUrl`. */
export function ownWindowsOnly(ids: () => number[], pageUrl: string): SenderCheck {
  return (event) => ids().includes(event.sender.id) && event.senderFrame?.url === pageUrl;
}

export function setupIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  handlers: Handlers,
  trusted: SenderCheck,
): () => void {
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, (event, request: unknown) => {
      if (!trusted(event)) throw new Error(`Refused "${channel}" from a page that is not the app's own.`);
      return handlers[channel](request);
    });
  }
  return () => INVOKE_CHANNELS.forEach((channel) => ipcMain.removeHandler(channel));
}
