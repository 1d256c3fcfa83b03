// The page's state and the chat protocol (protocol.md §5–§7, §16). The UI reads `state` and
// re-renders whenever `changed()` fires; every user action is a method here.

import { Connection } from './connection';
import { Cameras } from './webrtc';
import { loadPrefs, savePrefs, Prefs } from './prefs';
import { playSound } from './sound';

export const VIDEO_ACTIVE = 1;
export const VIDEO_NSFW = 2;
export const VIDEO_MUTED = 4;
export const VIDEO_NON_EXPLICIT = 8;
export const VIDEO_MUTUAL = 16;
export const VIDEO_MUTUAL_OPEN = 32;
export const VIDEO_VIP = 64;
export const VIDEO_INVITED = 128;

export const MAX_IMAGE_BYTES = 8 * 1024 * 1024;
const SCROLLBACK = 1000;

export interface WhoEntry {
  username: string;
  nickname?: string;
  status: string;
  video: number;
  dnd?: boolean;
  loginAt: number;
  op: boolean;
  vip?: boolean;
  avatar?: string;
  profileURL?: string;
  emoji?: string;
  gender?: string;
}

export interface ChatMessage {
  key: string;
  msgID?: number;
  username: string;
  html: string;
  time: Date;
  kind: 'chat' | 'notice' | 'presence';
  image: boolean;
}

export interface Channel {
  id: string; // public id, or "@name" for a DM thread
  name: string;
  dm: boolean;
  vip: boolean;
  permitPhotos: boolean;
  messages: ChatMessage[];
  unread: number;
  mentioned: boolean;
  historyLoaded: boolean;
  historyRemaining: number;
}

export type ConnState = 'idle' | 'connecting' | 'online' | 'offline' | 'stopped';

export interface ProtocolMessage {
  action: string;
  [key: string]: unknown;
}

let seq = 0;
const nextKey = () => `m${++seq}`;

function hasWebhook(name: string): boolean {
  return (WebhookURLs || []).some((w) => w.Name === name && w.Enabled);
}

export const STATUSES: [string, string][] = [
  ['online', 'Online'],
  ['away', 'Away'],
  ['brb', 'Be right back'],
  ['busy', 'Busy'],
  ['lunch', 'Out to lunch'],
  ['call', 'On the phone'],
  ['chatty', 'Chatty'],
  ['introverted', 'Introverted'],
];

export class Store {
  // identity
  username = '';
  jwt: string = UserJWTToken || '';
  claims: Claims = UserJWTClaims || {};
  rules: JWTRules = UserJWTRules;
  readonly jwtValid = UserJWTValid;
  readonly reportEnabled = hasWebhook('report');
  readonly profileEnabled = hasWebhook('profile');

  // connection
  conn: ConnState = 'idle';
  entered = false; // the user pressed "Enter"
  loggedIn = false; // a `me` arrived on this connection
  retryAt = 0;
  stopReason = '';

  // room
  who: WhoEntry[] = [];
  whoMap = new Map<string, WhoEntry>();
  channels = new Map<string, Channel>();
  active = '';
  reactions = new Map<number, Map<string, Set<string>>>();

  // the user's own lists, re-sent after every (re)connect (protocol.md §7)
  muted = new Set<string>();
  booted = new Set<string>();
  invited = new Set<string>();
  blocklist = new Set<string>(CachedBlocklist || []);
  blocked = new Set<string>();

  status = 'online';
  prefs: Prefs = loadPrefs();
  cameras: Cameras;
  private conn_: Connection;
  private listeners = new Set<() => void>();
  private pending = false;

  constructor() {
    for (const c of PublicChannels || []) {
      this.channels.set(c.ID, {
        id: c.ID,
        name: c.Name,
        dm: false,
        vip: c.VIP,
        permitPhotos: c.PermitPhotos,
        messages: [],
        unread: 0,
        mentioned: false,
        historyLoaded: true,
        historyRemaining: 0,
      });
    }
    this.active = this.visibleChannels()[0]?.id || '';
    this.cameras = new Cameras(this);
    this.conn_ = new Connection({
      onOpen: () => this.onOpen(),
      onMessage: (m) => this.onMessage(m),
      onState: (s, retryAt) => {
        this.conn = s;
        this.retryAt = retryAt;
        if (s !== 'online') this.loggedIn = false;
        if (s === 'offline') this.cameras.closeAll(false);
        this.changed();
      },
    });
    document.documentElement.dataset.theme = this.prefs.theme;
  }

  // ---------------------------------------------------------------- UI plumbing
  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }
  changed(): void {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      for (const f of this.listeners) f();
    });
  }

  // ---------------------------------------------------------------- derived
  get isOp(): boolean {
    return !!this.claims.op;
  }
  get isVip(): boolean {
    return !!this.claims.vip || !!this.claims.op;
  }
  visibleChannels(): Channel[] {
    return [...this.channels.values()].filter((c) => !c.dm && (!c.vip || this.isVip));
  }
  dmChannels(): Channel[] {
    return [...this.channels.values()].filter((c) => c.dm);
  }
  channel(id: string): Channel | undefined {
    return this.channels.get(id);
  }
  activeChannel(): Channel | undefined {
    return this.channels.get(this.active);
  }
  canShareImages(ch: Channel | undefined = this.activeChannel()): boolean {
    if (!ch || this.rules?.IsNoImageRule) return false;
    if (!ch.dm) return ch.permitPhotos;
    const partner = this.whoMap.get(ch.id.slice(1));
    return this.isOp || !!partner?.op;
  }
  displayName(name: string): string {
    return this.whoMap.get(name)?.nickname || name;
  }

  // ---------------------------------------------------------------- connection
  enter(nickname: string): void {
    if (this.jwtValid && this.claims.sub) this.username = this.claims.sub;
    else this.username = nickname.trim();
    this.entered = true;
    this.watchIdle();
    this.conn_.start();
    this.changed();
  }
  // Status "idle" after 5 minutes without input, back to "online" on input (pages.md §6).
  private lastInput = Date.now();
  private watchIdle(): void {
    const active = () => {
      this.lastInput = Date.now();
      if (this.status === 'idle') this.setStatus('online');
    };
    for (const ev of ['keydown', 'pointerdown', 'pointermove', 'touchstart', 'wheel']) {
      window.addEventListener(ev, active, { passive: true });
    }
    window.setInterval(() => {
      if (this.status === 'online' && Date.now() - this.lastInput > 300000) this.setStatus('idle');
    }, 15000);
  }

  reconnectNow(): void {
    this.conn_.retryNow();
  }
  send(msg: ProtocolMessage): boolean {
    return this.conn_.send(msg);
  }

  private sendLists(): void {
    if (this.blocklist.size) this.send({ action: 'blocklist', usernames: [...this.blocklist] });
    for (const u of this.booted) this.send({ action: 'boot', username: u });
    for (const u of this.muted) {
      if (!this.blocklist.has(u)) this.send({ action: 'mute', username: u });
    }
    if (this.invited.size) this.send({ action: 'video-invite', usernames: [...this.invited] });
  }

  private onOpen(): void {
    this.loggedIn = false;
    this.sendLists();
    this.send({ action: 'login', username: this.username, jwt: this.jwt, dnd: this.prefs.dnd });
  }

  videoFlags(): number {
    const cam = this.cameras.local;
    let v = 0;
    if (cam.active) {
      v |= VIDEO_ACTIVE;
      if (cam.nsfw) v |= VIDEO_NSFW;
      if (cam.micMuted) v |= VIDEO_MUTED;
      if (cam.mutual) v |= VIDEO_MUTUAL;
      if (cam.mutualOpen) v |= VIDEO_MUTUAL_OPEN;
      if (cam.vipOnly && this.isVip) v |= VIDEO_VIP;
    }
    if (!this.prefs.showExplicit) v |= VIDEO_NON_EXPLICIT;
    return v;
  }
  sendMe(): void {
    if (!this.loggedIn) return;
    this.send({ action: 'me', video: this.videoFlags(), status: this.status, dnd: this.prefs.dnd });
  }
  setStatus(s: string): void {
    this.status = s;
    this.sendMe();
    this.changed();
  }
  setPrefs(p: Partial<Prefs>): void {
    const dndChanged = p.dnd !== undefined && p.dnd !== this.prefs.dnd;
    const explicitChanged = p.showExplicit !== undefined && p.showExplicit !== this.prefs.showExplicit;
    this.prefs = { ...this.prefs, ...p };
    savePrefs(this.prefs);
    document.documentElement.dataset.theme = this.prefs.theme;
    if (dndChanged || explicitChanged) this.sendMe();
    if (explicitChanged && !this.prefs.showExplicit) this.cameras.closeExplicit();
    this.changed();
  }

  // ---------------------------------------------------------------- incoming
  private onMessage(m: ProtocolMessage): void {
    switch (m.action) {
      case 'me':
        return this.onMe(m);
      case 'who':
        return this.onWho((m.whoList as WhoEntry[]) || []);
      case 'echo':
        for (const e of (m.messages as ProtocolMessage[]) || []) this.onChat(e, true);
        return this.changed();
      case 'message':
        return this.onChat(m, false);
      case 'presence':
        return this.onPresence(m);
      case 'error':
        return this.onError(m);
      case 'takeback':
        return this.onTakeback(m.msgID as number);
      case 'react':
        return this.onReact(m);
      case 'ping':
        if (typeof m.jwt === 'string' && m.jwt) this.jwt = m.jwt;
        if (m.jwtRules) this.applyRules(m.jwtRules as JWTRules);
        this.conn_.resetFailures();
        return;
      case 'disconnect':
        this.stopReason = 'You have been disconnected from the chat room.';
        this.cameras.closeAll(true);
        this.who = [];
        this.whoMap.clear();
        this.conn_.stop();
        return this.changed();
      case 'block': {
        const u = m.username as string;
        this.blocklist.add(u);
        this.cameras.closePeer(u);
        return this.changed();
      }
      case 'cut':
        this.cameras.stopLocal();
        this.notice('A moderator has turned off your camera.');
        return;
      case 'ring':
      case 'open':
      case 'sdp':
      case 'candidate':
      case 'watch':
      case 'unwatch':
        return this.cameras.onSignal(m);
      default:
        return;
    }
  }

  private onMe(m: ProtocolMessage): void {
    const name = m.username as string;
    const first = !this.loggedIn;
    if (name && name !== this.username) {
      if (this.username) this.notice(`Your username has been changed to <strong>${esc(name)}</strong>.`);
      this.username = name;
    }
    const video = (m.video as number) || 0;
    if (this.cameras.local.active && video & VIDEO_NSFW && !this.cameras.local.nsfw) {
      this.cameras.local.nsfw = true;
      this.notice('Your camera has been marked as Explicit.');
    }
    this.loggedIn = true;
    this.conn_.resetFailures();
    this.sendLists();
    if (first) this.sendMe();
    this.changed();
  }

  private onWho(list: WhoEntry[]): void {
    const before = this.whoMap;
    this.who = list;
    this.whoMap = new Map(list.map((w) => [w.username, w]));
    this.cameras.onWho(before);
    this.changed();
  }

  private ensureDM(name: string): Channel {
    const id = '@' + name;
    let ch = this.channels.get(id);
    if (!ch) {
      ch = {
        id,
        name,
        dm: true,
        vip: false,
        permitPhotos: false,
        messages: [],
        unread: 0,
        mentioned: false,
        historyLoaded: false,
        historyRemaining: 0,
      };
      this.channels.set(id, ch);
    }
    return ch;
  }

  private addMessage(ch: Channel, msg: ChatMessage, countUnread: boolean): void {
    if (msg.msgID !== undefined && ch.messages.some((x) => x.msgID === msg.msgID)) return;
    ch.messages.push(msg);
    if (ch.messages.length > SCROLLBACK) ch.messages.splice(0, ch.messages.length - SCROLLBACK);
    if (countUnread && (ch.id !== this.active || document.hidden)) {
      if (ch.id !== this.active) ch.unread++;
      if (this.username && msg.html.includes('@' + this.username)) ch.mentioned = true;
    }
  }

  private onChat(m: ProtocolMessage, echo: boolean): void {
    const channel = (m.channel as string) || '';
    const from = (m.username as string) || '';
    let ch: Channel | undefined;
    if (channel.startsWith('@')) {
      const partner = channel.slice(1);
      const known = this.channels.has(channel);
      if (!known && from !== this.username && this.prefs.dnd && !this.whoMap.get(from)?.op) return;
      ch = this.ensureDM(partner);
      if (!ch.historyLoaded) void this.loadHistory(ch);
    } else {
      ch = this.channels.get(channel);
      if (!ch) return;
    }
    const html = String(m.message || '');
    this.addMessage(
      ch,
      {
        key: nextKey(),
        msgID: m.msgID as number | undefined,
        username: from,
        html,
        time: m.timestamp ? new Date(m.timestamp as string) : new Date(),
        kind: 'chat',
        image: html.includes('<img'),
      },
      !echo && from !== this.username,
    );
    if (!echo && from !== this.username) playSound(this.prefs, ch.dm ? 'dm' : 'chat');
    this.changed();
  }

  notice(html: string, channel?: string, from = 'ChatServer', countUnread = false): void {
    const ch = this.channels.get(channel || this.active) || this.visibleChannels()[0];
    if (!ch) return;
    this.addMessage(
      ch,
      { key: nextKey(), username: from, html, time: new Date(), kind: 'notice', image: false },
      countUnread,
    );
    this.changed();
  }

  private onPresence(m: ProtocolMessage): void {
    const who = m.username as string;
    const text = String(m.message || '');
    const joined = text.includes('has joined the room!');
    const exited = text.includes('has exited the room!');
    if (exited || !joined) this.cameras.closePeer(who);
    if (who !== this.username) playSound(this.prefs, joined ? 'enter' : 'leave');
    if ((joined || exited) && !this.prefs.joinNotices) return;
    const first = this.visibleChannels()[0];
    if (!first) return;
    this.addMessage(
      first,
      {
        key: nextKey(),
        username: who,
        html: `<strong>${esc(who)}</strong> ${esc(text)}`,
        time: new Date(),
        kind: 'presence',
        image: false,
      },
      false,
    );
    this.changed();
  }

  private onError(m: ProtocolMessage): void {
    const text = String(m.message || '');
    if (
      text.endsWith(' has booted you off of their camera!') ||
      text.endsWith(" had booted you off their camera before, and won't be notified of your watch.")
    ) {
      return; // operators watch unnoticed; nothing for the page to show
    }
    if (text.startsWith('Could not open that video') || text === BareRTCStrings?.ModRuleErrorNoVideo) {
      this.cameras.cancelRequests();
    }
    this.notice(text, m.channel as string | undefined, (m.username as string) || 'Internal Server Error');
  }

  private onTakeback(id: number): void {
    for (const ch of this.channels.values()) {
      const i = ch.messages.findIndex((x) => x.msgID === id);
      if (i >= 0) ch.messages.splice(i, 1);
    }
    this.reactions.delete(id);
    this.changed();
  }

  private onReact(m: ProtocolMessage): void {
    const id = m.msgID as number;
    const emoji = String(m.message || '');
    const who = m.username as string;
    if (id === -451) {
      if (emoji === this.username && this.cameras.local.active && !this.cameras.local.nsfw) {
        this.notice('Someone suggests that your camera should be marked as Explicit.');
      }
      return;
    }
    let byEmoji = this.reactions.get(id);
    if (!byEmoji) this.reactions.set(id, (byEmoji = new Map()));
    let users = byEmoji.get(emoji);
    if (!users) byEmoji.set(emoji, (users = new Set()));
    if (users.has(who)) users.delete(who);
    else users.add(who);
    if (!users.size) byEmoji.delete(emoji);
    this.changed();
  }

  private applyRules(r: JWTRules): void {
    this.rules = r;
    if ((r.IsNoBroadcastRule || r.IsNoVideoRule) && this.cameras.local.active) this.cameras.stopLocal();
    if (r.IsNoVideoRule) this.cameras.closeAll(true);
    if (r.IsRedCamRule && this.cameras.local.active && !this.cameras.local.nsfw) {
      this.cameras.local.nsfw = true;
      this.sendMe();
    }
    this.changed();
  }

  // ---------------------------------------------------------------- actions
  select(id: string): void {
    const ch = this.channels.get(id);
    if (!ch) return;
    this.active = id;
    ch.unread = 0;
    ch.mentioned = false;
    if (ch.dm && !ch.historyLoaded) void this.loadHistory(ch);
    this.changed();
  }

  openDM(name: string): void {
    const ch = this.ensureDM(name);
    this.select(ch.id);
  }

  closeDM(id: string): void {
    this.channels.delete(id);
    if (this.active === id) this.active = this.visibleChannels()[0]?.id || '';
    this.changed();
  }

  post(text: string): void {
    const body = text.trim();
    if (!body || !this.active) return;
    if (this.status === 'hidden' && !this.activeChannel()?.dm) {
      this.notice('You are hidden: public posting is disabled until you change your status.');
      return;
    }
    this.send({ action: 'message', channel: this.active, message: body });
  }

  async shareImage(file: File): Promise<void> {
    const ch = this.activeChannel();
    if (!ch || !this.canShareImages(ch)) {
      this.notice('Pictures cannot be shared in this channel.');
      return;
    }
    if (!/\.(jpe?g|png|gif)$/i.test(file.name) && !/^image\/(jpeg|png|gif)$/.test(file.type)) {
      this.notice('Only JPEG, PNG and GIF pictures can be shared.');
      return;
    }
    if (file.size > MAX_IMAGE_BYTES) {
      this.notice('That picture is too large: the limit is 8 MB.');
      return;
    }
    let name = file.name || 'pasted';
    if (!/\.(jpe?g|png|gif)$/i.test(name)) name += '.' + (file.type.split('/')[1] || 'png').replace('jpeg', 'jpg');
    const bytes = new Uint8Array(await file.arrayBuffer());
    this.send({ action: 'file', channel: ch.id, message: name, bytes: Array.from(bytes) });
  }

  react(msgID: number, emoji: string): void {
    this.send({ action: 'react', msgID, message: emoji });
  }
  takeback(msgID: number): void {
    this.send({ action: 'takeback', msgID });
  }
  report(ch: Channel, msg: ChatMessage, reason: string, comment: string): void {
    const div = document.createElement('div');
    div.innerHTML = msg.html;
    this.send({
      action: 'report',
      channel: ch.id,
      username: msg.username,
      timestamp: msg.time.toString(),
      reason,
      message: div.textContent || msg.html,
      comment,
    });
  }
  reportUser(name: string, reason: string, comment: string): void {
    this.send({
      action: 'report',
      channel: this.active,
      username: name,
      timestamp: new Date().toString(),
      reason,
      message: `A report about the user ${name}.`,
      comment,
    });
  }

  toggleMute(name: string): void {
    if (this.muted.has(name)) {
      if (this.blocklist.has(name)) {
        this.notice(`You cannot unmute ${esc(name)}: they are on your block list.`);
        return;
      }
      this.muted.delete(name);
      this.send({ action: 'unmute', username: name });
    } else {
      this.muted.add(name);
      this.send({ action: 'mute', username: name });
    }
    this.changed();
  }
  block(name: string): void {
    this.blocked.add(name);
    this.blocklist.add(name);
    this.cameras.closePeer(name);
    this.send({ action: 'block', username: name });
    this.notice(`You have blocked <strong>${esc(name)}</strong>. You will no longer see each other in the chat room.`);
  }
  toggleBoot(name: string): void {
    if (this.booted.has(name)) {
      this.booted.delete(name);
      this.send({ action: 'unboot', username: name });
    } else {
      this.booted.add(name);
      this.send({ action: 'boot', username: name });
      this.cameras.bootViewer(name);
      this.notice(`You have booted <strong>${esc(name)}</strong> off your camera.`);
    }
    this.changed();
  }
  invite(name: string): void {
    this.invited.add(name);
    this.send({ action: 'video-invite', usernames: [name] });
    this.notice(`You have invited <strong>${esc(name)}</strong> to watch your camera.`);
  }
  // Operator commands (commands.md): sent as chat text; the replies come back as notices.
  command(cmd: 'kick' | 'ban' | 'nsfw' | 'cut', name: string): void {
    const quoted = '"' + name.replace(/(["\\])/g, '\\$1') + '"';
    this.send({ action: 'message', channel: this.active || 'lobby', message: `/${cmd} ${quoted}` });
  }

  async loadHistory(ch: Channel, older = false): Promise<void> {
    if (!ch.dm) return;
    ch.historyLoaded = true;
    if (!this.jwtValid || !this.jwt) return;
    const oldest = ch.messages.reduce<number>(
      (min, m) => (m.msgID !== undefined && m.msgID > 0 && m.msgID < min ? m.msgID : min),
      Number.MAX_SAFE_INTEGER,
    );
    try {
      const res = await fetch('/api/message/history', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          JWTToken: this.jwt,
          Username: ch.name,
          BeforeID: older && oldest !== Number.MAX_SAFE_INTEGER ? oldest : 0,
        }),
      });
      const data = (await res.json()) as {
        OK: boolean;
        Messages: { username: string; message: string; msgID: number; timestamp: string }[] | null;
        Remaining: number;
      };
      if (!data.OK || !data.Messages) return;
      const known = new Set(ch.messages.map((m) => m.msgID));
      const rows = data.Messages.filter((r) => !known.has(r.msgID))
        .reverse()
        .map<ChatMessage>((r) => ({
          key: nextKey(),
          msgID: r.msgID,
          username: r.username,
          html: r.message,
          time: new Date(r.timestamp),
          kind: 'chat',
          image: r.message.includes('<img'),
        }));
      ch.messages = [...rows, ...ch.messages].sort((a, b) => a.time.getTime() - b.time.getTime());
      ch.historyRemaining = data.Remaining;
      this.changed();
    } catch {
      // History is optional: the thread works without it.
    }
  }
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
