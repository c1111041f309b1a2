/**
 * The benchmark's baseline: ibeam's published keep-alive algorithm, as the issue states it.
 * Every 60 s a tickle and an `/sso/validate`; when not authenticated, reauthenticate and poll the
 * auth status every second; when competing, log out and reauthenticate. Raw HTTPS with the
 * simulator's certificate pinned (it is shaped like IBKR's: expired, no subjectAltName), no
 * pacing of its own.
 */
import type https from 'node:https';
import { PinnedAgent } from '../../main/session/tls.ts';
import { exchange } from '../../main/session/transport.ts';
import type { Simulator } from '../../main/simulator/server.ts';
import type { VirtualTime } from '../../main/simulator/virtual-time.ts';

export class IbeamBaseline {
  readonly #sim: Simulator;
  readonly #time: VirtualTime;
  readonly #agent: https.Agent;
  #pollUntil: number | undefined;
  #running = false;
  /** Set when the loop first sees the session not authenticated, and when it sees it back. */
  readonly detections: number[] = [];
  readonly recoveries: number[] = [];
  state: 'ready' | 'down' = 'ready';

  constructor(sim: Simulator, time: VirtualTime) {
    this.#sim = sim;
    this.#time = time;
    this.#agent = new PinnedAgent(sim.fingerprint256, { keepAlive: true, maxSockets: 1, timeoutMs: 5_000 });
  }

  start(): void {
    this.#running = true;
    this.#time.after(0, () => this.#loop());
  }

  stop(): void {
    this.#running = false;
    this.#agent.destroy();
  }

  async #send(method: string, path: string): Promise<any> {
    try {
      const answer = await exchange(`${this.#sim.url}/v1/api${path}`, {
        method,
        agent: this.#agent,
        headers: {},
        timeoutMs: 5_000,
      });
      return answer.status === 200 ? JSON.parse(answer.text || 'null') : undefined;
    } catch {
      return undefined;
    }
  }

  async #loop(): Promise<void> {
    if (!this.#running) return;
    if (this.#pollUntil !== undefined) return this.#poll();
    const tickle = await this.#send('POST', '/tickle');
    await this.#send('GET', '/sso/validate');
    const auth = tickle?.iserver?.authStatus;
    if (auth?.authenticated && auth.connected && !auth.competing) {
      this.#time.after(60_000, () => this.#loop());
      return;
    }
    if (this.state === 'ready') {
      this.state = 'down';
      this.detections.push(this.#time.monotonic());
    }
    if (auth?.competing) await this.#send('POST', '/logout');
    await this.#send('POST', '/iserver/reauthenticate');
    this.#pollUntil = this.#time.monotonic() + 60_000;
    this.#time.after(1_000, () => this.#loop());
  }

  async #poll(): Promise<void> {
    const status = await this.#send('POST', '/iserver/auth/status');
    if (status?.authenticated && status.connected && !status.competing) {
      this.#pollUntil = undefined;
      if (this.state === 'down') this.recoveries.push(this.#time.monotonic());
      this.state = 'ready';
      this.#time.after(60_000, () => this.#loop());
      return;
    }
    if (this.#time.monotonic() >= this.#pollUntil!) {
      this.#pollUntil = undefined;
      this.#time.after(60_000, () => this.#loop());
      return;
    }
    this.#time.after(1_000, () => this.#loop());
  }
}
