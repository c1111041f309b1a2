/**
 * The main process's answers to the details window, one per channel of the contract. Requests
 * come from a page, so each is checked by a schema before it reaches the core. Used by the IPC
 * adapter in Electron and, in tests, by a bridge from a page in Chromium.
 */
import * as z from '../session/zod.ts';
import { ACTIONS, type InvokeChannel, type InvokeContract } from '../contract.ts';
import type { DesktopCore } from './core.ts';

export type Handlers = { [C in InvokeChannel]: (request: unknown) => Promise<InvokeContract[C]['response']> };

const actSchema = z.object({ action: z.enum(ACTIONS) });
const settingsChangeSchema = z.record(z.string(), z.unknown());
const acceptSchema = z.object({ fingerprint256: z.string() });
const chooseFolderSchema = z.object({ defaultPath: z.nullable(z.string()) });

/** A request that does not fit its channel: refused with a message, nothing done. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

export function createHandlers(core: DesktopCore): Handlers {
  return {
    'state:get': async () => core.state(),
    'keeper:act': async (request) => {
      const parsed = actSchema.safeParse(request);
      if (!parsed.success) throw new BadRequest(`keeper:act needs {"action": one of ${ACTIONS.join(', ')}}.`);
      return core.act(parsed.data.action);
    },
    'settings:save': async (request) => {
      const parsed = settingsChangeSchema.safeParse(request);
      if (!parsed.success) throw new BadRequest('settings:save needs an object of settings.');
      return core.saveSettings(parsed.data);
    },
    'trust:forget': async () => core.forgetCertificate(),
    'gateway:certificate': async () => core.makeGatewayCertificate(),
    'gateway:choose-folder': async (request) => {
      const parsed = chooseFolderSchema.safeParse(request);
      if (!parsed.success)
        throw new BadRequest('gateway:choose-folder needs {"defaultPath": the folder to start in, or null}.');
      return core.chooseGatewayFolder(parsed.data.defaultPath);
    },
    'gateway:show-log': async () => core.showGatewayLog(),
    'trust:accept': async (request) => {
      const parsed = acceptSchema.safeParse(request);
      if (!parsed.success) throw new BadRequest('trust:accept needs {"fingerprint256": the fingerprint shown}.');
      return core.acceptCertificate(parsed.data.fingerprint256);
    },
  };
}
