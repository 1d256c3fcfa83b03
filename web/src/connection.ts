// The WebSocket to /ws with automatic reconnects: exponential backoff with jitter, so a
// restarted server is not hit by every page at the same instant (protocol.md §19).

import type { ConnState, ProtocolMessage } from './store';

export interface ConnectionEvents {
  onOpen(): void;
  onMessage(m: ProtocolMessage): void;
  onState(s: ConnState, retryAt: number): void;
}

const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 15000;

export class Connection {
  private ws: WebSocket | null = null;
  private failures = 0;
  private timer: number | undefined;
  private stopped = false;

  constructor(private events: ConnectionEvents) {}

  start(): void {
    this.stopped = false;
    this.dial();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
    this.events.onState('stopped', 0);
  }

  retryNow(): void {
    if (this.stopped || this.ws) return;
    window.clearTimeout(this.timer);
    this.dial();
  }

  // A ping from the server proves the session works: start the backoff from scratch.
  resetFailures(): void {
    this.failures = 0;
  }

  send(msg: ProtocolMessage): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  private dial(): void {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/ws`);
    this.ws = ws;
    this.events.onState('connecting', 0);
    let opened = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      opened = true;
      this.events.onState('online', 0);
      this.events.onOpen();
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws || typeof ev.data !== 'string') return;
      let msg: ProtocolMessage;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.events.onMessage(msg);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      const cap = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(this.failures, 10));
      // "Equal jitter": at least half the backoff, so quick retries still spread out.
      const delay = cap / 2 + Math.random() * (cap / 2);
      this.failures++;
      const at = Date.now() + delay;
      this.events.onState('offline', at);
      this.timer = window.setTimeout(() => this.dial(), delay);
    };
    ws.onerror = () => {
      // onclose follows and schedules the retry.
    };
  }
}
