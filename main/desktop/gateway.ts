/**
 * The desktop app's gateway (no Electron): with the settings "Run the gateway with the app"
 * (`runGateway`) and a gateway folder, the app starts IBKR's gateway through the supervisor
 * (main/gateway/supervisor.ts), shows its facts, offers Start / Stop / Restart, makes the keeper
 * check at once when the gateway logs a login, and on quit stops it unless "Leave it running when
 * I quit" (`leaveGatewayRunning`) is on.
 */
import type { ActionResult, GatewayProblem } from '../session/keeper.ts';
import type { Settings } from '../session/settings.ts';
import type { Clock, Scheduler } from '../session/time.ts';
import { linkGateway } from '../gateway/link.ts';
import { publishSupervision } from '../gateway/process-facts.ts';
import { GatewaySupervisor, type GatewayFacts } from '../gateway/supervisor.ts';

/** What the tray and the window can ask of the gateway. */
export type GatewayAction = 'start' | 'stop' | 'restart';

export interface DesktopGatewayDeps {
  readonly configDir: string;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  /** The facts changed: the window and the tray show them again. */
  readonly onChange: () => void;
  /** The gateway logged a login: check the session now. */
  readonly onLogin: () => void;
  readonly log: (line: string) => void;
  /**
   * The keeper's setGatewayProblem: why the gateway is down (it gave up or failed), what its log
   * said of its login to IBKR, or undefined once it runs or logged a login (main/gateway/link.ts).
   */
  readonly onProblem: (problem: GatewayProblem | undefined) => void;
}

export class DesktopGateway {
  readonly #deps: DesktopGatewayDeps;
  #supervisor: GatewaySupervisor | undefined;
  #dir: string | undefined;
  /** Why the last start did not happen (no Java, a bad conf.yaml, the port taken), until the next. */
  #problem: string | undefined;
  /** The app started the supervised gateway once already (a stopped one is not started again by itself). */
  #launched = false;
  /** Removes supervised-<port>.json (what `ibkr-keeper status --json` reads of the app's gateway). */
  #unpublish: (() => void) | undefined;

  constructor(deps: DesktopGatewayDeps) {
    this.#deps = deps;
  }

  /** The facts for the window, or null when the app does not run the gateway. */
  facts(): GatewayFacts | null {
    if (this.#supervisor === undefined) return null;
    const facts = this.#supervisor.facts();
    return this.#problem !== undefined && facts.state === 'stopped'
      ? { ...facts, state: 'failed', reason: this.#problem }
      : facts;
  }

  /**
   * Follows the settings: a supervisor for the folder when runGateway is on (started when `start`),
   * none (the one it started stopped) when it is off or the folder changed.
   */
  async apply(settings: Pick<Settings, 'runGateway' | 'gatewayDir'>, start: boolean): Promise<void> {
    const dir = settings.runGateway && settings.gatewayDir !== null ? settings.gatewayDir : undefined;
    if (dir !== this.#dir) {
      if (this.#supervisor) await this.#supervisor.stop('stopped: the settings changed');
      this.#unpublish?.();
      this.#unpublish = undefined;
      this.#supervisor = undefined;
      this.#problem = undefined;
      this.#launched = false;
      this.#dir = dir;
      if (dir !== undefined) {
        const supervisor = new GatewaySupervisor({
          dir,
          configDir: this.#deps.configDir,
          clock: this.#deps.clock,
          scheduler: this.#deps.scheduler,
          keepAlive: true,
        });
        linkGateway(supervisor, { problem: (p) => this.#deps.onProblem(p), login: () => this.#deps.onLogin() });
        supervisor.on('state', () => this.#deps.onChange());
        supervisor.on('log', this.#deps.log);
        supervisor.on('gatewayLog', (event) => {
          if (event.kind !== 'login') this.#deps.log(`Gateway log: ${event.reason}`);
        });
        this.#unpublish = publishSupervision(supervisor, {
          configDir: this.#deps.configDir,
          program: 'app',
          warn: this.#deps.log,
        });
        this.#supervisor = supervisor;
      }
      this.#deps.onChange();
    }
    // Started once with the app (or once the setting is turned on); after that only by the person.
    // Not waited for: a start takes up to 120 s, and a save of the settings answers at once (its
    // progress shows in the facts); act() never rejects.
    if (start && this.#supervisor !== undefined && !this.#launched) {
      this.#launched = true;
      void this.act('start');
    }
  }

  /** Start, Stop or Restart from the tray or the window. */
  async act(action: GatewayAction): Promise<ActionResult> {
    const supervisor = this.#supervisor;
    if (supervisor === undefined)
      return { ok: false, message: 'Set the gateway folder and turn on "Run the gateway with the app" first.' };
    this.#problem = undefined;
    try {
      if (action === 'stop') {
        await supervisor.stop();
        return { ok: true, message: 'Gateway stopped.' };
      }
      const facts = action === 'restart' ? await supervisor.restart() : await supervisor.start();
      const ok = facts.state === 'running' || facts.state === 'attached';
      return { ok, message: `Gateway ${facts.state}: ${facts.reason}.` };
    } catch (error) {
      this.#problem = (error as Error).message;
      this.#deps.onChange();
      return { ok: false, message: this.#problem };
    }
  }

  /** On quit: stop the gateway, or leave it running for the next start to find. */
  async quit(leaveRunning: boolean): Promise<void> {
    if (this.#supervisor === undefined) return;
    if (leaveRunning) this.#supervisor.release();
    else await this.#supervisor.stop('stopped: the app quit');
    this.#unpublish?.();
  }
}
