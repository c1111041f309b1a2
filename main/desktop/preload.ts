/**
 * The preload of the details window: exposes one object, `window.keeper`, typed by the contract.
 * Never the raw ipcRenderer or its events: only the channels of the contract, and a state
 * listener that returns its own unsubscribe function.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { INVOKE_CHANNELS, STATE_CHANNEL, type DetailsState, type KeeperBridge } from '../contract.ts';

const bridge: KeeperBridge = {
  invoke: (channel, request) => {
    if (!(INVOKE_CHANNELS as readonly string[]).includes(channel))
      return Promise.reject(new Error(`No channel ${channel}.`));
    return ipcRenderer.invoke(channel, request);
  },
  onState: (listener) => {
    const handler = (_event: IpcRendererEvent, state: DetailsState): void => listener(state);
    ipcRenderer.on(STATE_CHANNEL, handler);
    return () => void ipcRenderer.removeListener(STATE_CHANNEL, handler);
  },
};

contextBridge.exposeInMainWorld('keeper', bridge);
