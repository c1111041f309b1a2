/** Resume from sleep and screen unlock trigger an immediate check (Electron's power events). */
import type { PowerMonitor } from 'electron';

export function setupPower(
  powerMonitor: Pick<PowerMonitor, 'on'>,
  onWake: (why: 'resume' | 'unlock-screen') => void,
): void {
  powerMonitor.on('resume', () => onWake('resume'));
  powerMonitor.on('unlock-screen', () => onWake('unlock-screen'));
}
