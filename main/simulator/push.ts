/**
 * The simulated gateway's WebSocket (`/v1/api/ws`, on the same TLS port), as docs/gateway.md
 * ("WebSocket (push)") describes the real one: authenticated by the cookie
 * `api={"session":"<tickle session>"}` on the upgrade (a `{"session":...}` text frame is answered
 * `Topic unknown '{"s'`, as the real one does); on connect `system`, `act`, `sts`; `sts` again on
 * every change of authenticated/competing; a heartbeat `{"topic":"system","hb":<ms>}` every 10 s;
 * `tic` answered; nothing replayed after a reconnect; closed with 1000 while unauthenticated; silent
 * for good after about 5 minutes without a tickle.
 *
 * Time: everything is decided by `pump()` against the simulator's clock, which runs on a real
 * timer (200 ms) and after every jump of the clock, every event and every request, so heartbeats
 * come every 10 s of real time and, under virtual time, once per jump of 10 s or more.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SIM_USER, type GatewayModel } from './model.ts';

/** Between two heartbeats (docs/gateway.md). */
export const HEARTBEAT_MS = 10_000;
/** Without a tickle for this long, a socket goes silent for good (docs/gateway.md: "about 5 minutes"). */
export const SILENT_AFTER_MS = 300_000;
const PUMP_EVERY_MS = 200;

/** What the control interface can do to the WebSocket. */
export type PushAction =
  | 'drop-heartbeats'
  | 'resume-heartbeats'
  | 'close-sockets'
  | 'refuse-upgrades'
  | 'accept-upgrades';

interface Peer {
  readonly ws: WebSocket;
  authed: boolean;
  /** `authenticated/competing` last sent in an `sts`. */
  lastSts: string | undefined;
  lastHb: number;
  /** Dead without a word: nothing is ever sent again, the connection stays open. */
  silent: boolean;
}

export interface PushHost {
  readonly model: GatewayModel;
  now(): number;
  /** Applies what time has done to the model. */
  settle(): void;
  /** When the last `/tickle` arrived (simulated epoch ms). */
  lastTickleAt(): number;
  /** The gateway's own answer to an upgrade before any WebSocket (e.g. 404 Access Denied), if any. */
  refusal(): { status: number; text: string } | undefined;
  /** IBKR cannot be reached: the upgrade is answered 101 and nothing more comes. */
  unreachable(): boolean;
}

export class SimPush {
  readonly #host: PushHost;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 65_536 });
  readonly #peers = new Set<Peer>();
  readonly #timer: NodeJS.Timeout;
  #dropHeartbeats = false;
  #refuseUpgrades = false;
  /** Upgrades accepted, in all. */
  upgrades = 0;
  /** `tic` frames received, in all. */
  tics = 0;

  constructor(host: PushHost) {
    this.#host = host;
    this.#timer = setInterval(() => this.pump(), PUMP_EVERY_MS);
    this.#timer.unref();
  }

  /** Takes an HTTP upgrade of the gateway's port. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const refusal = this.#refuseUpgrades ? { status: 503, text: '' } : this.#host.refusal();
    if (refusal !== undefined) {
      const reason = refusal.status === 404 ? 'Not Found' : 'Service Unavailable';
      socket.end(
        `HTTP/1.1 ${refusal.status} ${reason}\r\ncontent-type: ` +
          `text/plain\r\ncontent-length: ${Buffer.byteLength(refusal.text)}\r\nconnection: ` +
          `close\r\n\r\n${refusal.text}`,
      );
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connected(ws, sessionOfCookie(req.headers.cookie)));
  }

  /** Applies a control action. */
  act(action: PushAction): void {
    switch (action) {
      case 'drop-heartbeats':
        this.#dropHeartbeats = true;
        break;
      case 'resume-heartbeats':
        this.#dropHeartbeats = false;
        break;
      case 'refuse-upgrades':
        this.#refuseUpgrades = true;
        break;
      case 'accept-upgrades':
        this.#refuseUpgrades = false;
        break;
      case 'close-sockets':
        for (const peer of this.#peers) peer.ws.close(1001, 'going away');
        break;
    }
  }

  /** Ends the faults of the control interface (the `recover` event). */
  recover(): void {
    this.#dropHeartbeats = false;
    this.#refuseUpgrades = false;
  }

  /** Sends what is due now: `sts` on a change, heartbeats, the close of an unauthenticated socket. */
  pump(): void {
    if (this.#peers.size === 0) return;
    this.#host.settle();
    const now = this.#host.now();
    const idle = now - this.#host.lastTickleAt() >= SILENT_AFTER_MS;
    for (const peer of this.#peers) {
      if (!peer.authed || peer.silent) continue;
      if (idle) {
        peer.silent = true;
        continue;
      }
      if (this.#sendSts(peer)) continue;
      if (!this.#dropHeartbeats && now - peer.lastHb >= HEARTBEAT_MS) {
        peer.lastHb = now;
        send(peer.ws, { topic: 'system', hb: now });
      }
    }
  }

  snapshot(): Record<string, unknown> {
    return {
      sockets: this.#peers.size,
      silentSockets: [...this.#peers].filter((p) => p.silent).length,
      heartbeats: this.#dropHeartbeats ? 'dropped' : 'every 10 s',
      upgrades: this.#refuseUpgrades ? 'refused' : 'accepted',
      upgradesAccepted: this.upgrades,
      tics: this.tics,
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const peer of this.#peers) peer.ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #connected(ws: WebSocket, session: string | undefined): void {
    this.upgrades += 1;
    const now = this.#host.now();
    const peer: Peer = { ws, authed: false, lastSts: undefined, lastHb: now, silent: this.#host.unreachable() };
    this.#peers.add(peer);
    ws.on('close', () => this.#peers.delete(peer));
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, binary) => this.#message(peer, binary ? '' : data.toString('utf8')));
    if (peer.silent) return;
    this.#host.settle();
    const { model } = this.#host;
    const flags = model.authStatus();
    if (session === undefined || model.sso !== 'valid' || session !== model.session) {
      send(ws, { message: 'waiting for session' });
      if (flags['authenticated'] !== true) ws.close(1000);
      return;
    }
    peer.authed = true;
    send(ws, { topic: 'system', success: SIM_USER.userName, isFT: false, isPaper: SIM_USER.paper });
    send(ws, {
      topic: 'act',
      args: {
        accounts: [SIM_USER.account],
        acctProps: { [SIM_USER.account]: { hasChildAccounts: false, supportsCashQty: true, supportsFractions: true } },
        aliases: { [SIM_USER.account]: SIM_USER.account },
        allowFeatures: { showGFIS: true, allowCrypto: false },
        selectedAccount: SIM_USER.account,
        serverInfo: flags['serverInfo'],
        isFT: false,
        isPaper: SIM_USER.paper,
      },
    });
    this.#sendSts(peer);
  }

  /** Sends `sts` when authenticated/competing changed since the last one; closes (1000) when unauthenticated. */
  #sendSts(peer: Peer): boolean {
    const status = this.#host.model.authStatus();
    const key = `${status['authenticated']}/${status['competing']}`;
    if (key === peer.lastSts) return false;
    peer.lastSts = key;
    const { MAC: _mac, serverInfo, hardware_info: _hw, prompts: _p, established: _e, message: _m, ...flags } = status;
    const info = serverInfo as { serverName?: string; serverVersion?: string } | undefined;
    send(peer.ws, {
      topic: 'sts',
      args: { ...flags, serverName: info?.serverName, serverVersion: info?.serverVersion, username: SIM_USER.userName },
    });
    if (status['authenticated'] !== true) {
      peer.authed = false;
      peer.ws.close(1000);
    }
    return true;
  }

  #message(peer: Peer, text: string): void {
    if (peer.silent) return;
    if (text === 'tic') {
      this.tics += 1;
      if (peer.authed)
        send(peer.ws, { topic: 'tic', alive: true, id: this.#host.model.session, lastAccessed: this.#host.now() });
      return;
    }
    // The real gateway reads a topic from the first three characters: a `{"session":...}` frame is
    // "Topic unknown '{"s'" (docs/gateway.md), so only the cookie authenticates.
    send(peer.ws, `Topic unknown '${text.slice(0, 3)}'`);
  }
}

function send(ws: WebSocket, frame: unknown): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
}

/** The session of a `Cookie: api={"session":"..."}` header, if it holds one. */
export function sessionOfCookie(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== 'api') continue;
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // kept as sent
    }
    try {
      const session = (JSON.parse(value) as { session?: unknown } | null)?.session;
      if (typeof session === 'string') return session;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
