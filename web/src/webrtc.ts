// Webcams: the user's own camera and the peer connections to and from other users, driven by
// the server's signalling relay (protocol.md §5.5, §5.6, §11).
//
// The viewer makes the offer (receive-only) after the server's `open`; the broadcaster answers
// with its tracks. The opaque `description`/`candidate` strings carry a `role` field so that two
// users watching each other keep two independent connections.

import type { Store, ProtocolMessage, WhoEntry } from './store';
import { esc, VIDEO_ACTIVE, VIDEO_MUTUAL, VIDEO_NSFW } from './store';
import { playSound } from './sound';

export interface LocalCamera {
  active: boolean;
  stream: MediaStream | null;
  nsfw: boolean;
  mutual: boolean;
  mutualOpen: boolean;
  vipOnly: boolean;
  micMuted: boolean;
}

export interface RemoteCamera {
  username: string;
  pc: RTCPeerConnection | null;
  stream: MediaStream | null;
  audioMuted: boolean;
  state: 'requesting' | 'connecting' | 'live' | 'failed';
}

type Role = 'viewer' | 'broadcaster';

function iceServers(): RTCIceServer[] {
  const urls = (TURN?.URLs || []).filter((u) => /^(stun|turns?):/.test(u));
  if (!urls.length) return [];
  const server: RTCIceServer = { urls };
  if (TURN.Username) server.username = TURN.Username;
  if (TURN.Credential) server.credential = TURN.Credential;
  return [server];
}

export class Cameras {
  local: LocalCamera = {
    active: false,
    stream: null,
    nsfw: false,
    mutual: false,
    mutualOpen: false,
    vipOnly: false,
    micMuted: false,
  };
  watchers = new Set<string>();
  remote = new Map<string, RemoteCamera>();
  private outgoing = new Map<string, RTCPeerConnection>();
  private queued = new Map<string, RTCIceCandidateInit[]>();

  constructor(private store: Store) {}

  // ------------------------------------------------------------------ own camera
  async startLocal(stream: MediaStream, opts: Partial<LocalCamera>): Promise<void> {
    if (this.store.rules?.IsNoBroadcastRule || this.store.rules?.IsNoVideoRule) {
      stream.getTracks().forEach((t) => t.stop());
      this.store.notice(esc(BareRTCStrings?.ModRuleErrorNoBroadcast || 'You may not share your camera.'));
      return;
    }
    if (this.local.stream && this.local.stream !== stream) this.local.stream.getTracks().forEach((t) => t.stop());
    Object.assign(this.local, opts, { active: true, stream });
    if (this.store.rules?.IsRedCamRule) this.local.nsfw = true;
    this.applyMicMute();
    this.store.sendMe();
    this.store.changed();
  }

  stopLocal(): void {
    this.local.stream?.getTracks().forEach((t) => t.stop());
    this.local.stream = null;
    this.local.active = false;
    for (const name of [...this.outgoing.keys()]) this.closeOutgoing(name);
    this.watchers.clear();
    this.store.sendMe();
    this.store.changed();
  }

  setLocalOption(opts: Partial<LocalCamera>): void {
    Object.assign(this.local, opts);
    if (this.store.rules?.IsRedCamRule) this.local.nsfw = true;
    this.applyMicMute();
    this.store.sendMe();
    this.store.changed();
  }

  private applyMicMute(): void {
    this.local.stream?.getAudioTracks().forEach((t) => (t.enabled = !this.local.micMuted));
  }

  // ------------------------------------------------------------------ watching others
  open(name: string): void {
    const who = this.store.whoMap.get(name);
    if (this.remote.has(name)) return;
    if (!who || !(who.video & VIDEO_ACTIVE)) {
      this.store.notice(`${esc(name)}'s camera is not on.`);
      return;
    }
    if (who.video & VIDEO_NSFW && !this.store.prefs.showExplicit) {
      this.store.notice(
        'That camera is marked Explicit. Turn on "Show explicit cameras" in the settings to open it.',
      );
      return;
    }
    if (who.video & VIDEO_MUTUAL && !this.local.active && !(who.video & 128) && !this.store.isOp) {
      this.store.notice(`${esc(name)} asks that you share your own camera before opening theirs.`);
      return;
    }
    this.remote.set(name, { username: name, pc: null, stream: null, audioMuted: false, state: 'requesting' });
    this.store.send({ action: 'open', username: name });
    this.store.changed();
  }

  close(name: string): void {
    this.closeRemote(name, true);
  }

  toggleAudio(name: string): void {
    const r = this.remote.get(name);
    if (r) r.audioMuted = !r.audioMuted;
    this.store.changed();
  }

  // ------------------------------------------------------------------ signalling
  onSignal(m: ProtocolMessage): void {
    const from = String(m.username || '');
    if (!from) return;
    switch (m.action) {
      case 'open':
        void this.startViewer(from);
        return;
      case 'ring':
        this.onRing(from);
        return;
      case 'sdp':
        void this.onDescription(from, String(m.description || ''));
        return;
      case 'candidate':
        void this.onCandidate(from, String(m.candidate || ''));
        return;
      case 'watch':
        if (!this.local.active) return;
        if (!this.watchers.has(from)) playSound(this.store.prefs, 'watch');
        this.watchers.add(from);
        this.store.changed();
        return;
      case 'unwatch':
        this.watchers.delete(from);
        this.closeOutgoing(from);
        this.store.changed();
        return;
    }
  }

  private newPeer(name: string, role: Role): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: iceServers() });
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      this.store.send({
        action: 'candidate',
        username: name,
        candidate: JSON.stringify({ ...e.candidate.toJSON(), role }),
      });
    };
    return pc;
  }

  private async startViewer(name: string): Promise<void> {
    let r = this.remote.get(name);
    if (!r) {
      // Opened from elsewhere (e.g. auto-open): show it like any other tile.
      r = { username: name, pc: null, stream: null, audioMuted: false, state: 'requesting' };
      this.remote.set(name, r);
    }
    r.pc?.close();
    const pc = this.newPeer(name, 'viewer');
    r.pc = pc;
    r.state = 'connecting';
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.ontrack = (e) => {
      const cur = this.remote.get(name);
      if (!cur || cur.pc !== pc) return;
      const tracks = cur.stream ? cur.stream.getTracks() : [];
      if (!tracks.includes(e.track)) cur.stream = new MediaStream([...tracks, e.track]);
      cur.state = 'live';
      this.store.changed();
    };
    pc.onconnectionstatechange = () => {
      const cur = this.remote.get(name);
      if (!cur || cur.pc !== pc) return;
      if (pc.connectionState === 'failed') {
        cur.state = 'failed';
        this.store.changed();
      }
    };
    this.store.changed();
    try {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      this.store.send({
        action: 'sdp',
        username: name,
        description: JSON.stringify({ type: offer.type, sdp: offer.sdp, role: 'viewer' }),
      });
      this.store.send({ action: 'watch', username: name });
    } catch (err) {
      this.store.notice(`Could not open ${esc(name)}'s camera: ${esc(String(err))}`);
      this.closeRemote(name, true);
    }
  }

  private onRing(viewer: string): void {
    if (!this.local.active) return;
    // Auto-open: when someone opens my camera, open theirs too (if it is on).
    const who = this.store.whoMap.get(viewer);
    if (this.local.mutualOpen && who && who.video & VIDEO_ACTIVE && !this.remote.has(viewer)) {
      this.open(viewer);
    }
  }

  private async onDescription(from: string, raw: string): Promise<void> {
    let desc: { type: RTCSdpType; sdp: string; role?: Role };
    try {
      desc = JSON.parse(raw);
    } catch {
      return;
    }
    const role: Role = desc.role || (desc.type === 'offer' ? 'viewer' : 'broadcaster');
    if (role === 'viewer') {
      // A viewer's offer: answer with my camera.
      if (!this.local.active || !this.local.stream || this.store.booted.has(from)) return;
      this.closeOutgoing(from);
      const pc = this.newPeer(from, 'broadcaster');
      this.outgoing.set(from, pc);
      pc.onconnectionstatechange = () => {
        if (['failed', 'closed'].includes(pc.connectionState) && this.outgoing.get(from) === pc) {
          this.closeOutgoing(from);
          this.store.changed();
        }
      };
      try {
        await pc.setRemoteDescription({ type: desc.type, sdp: desc.sdp });
        for (const track of this.local.stream.getTracks()) pc.addTrack(track, this.local.stream);
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        this.store.send({
          action: 'sdp',
          username: from,
          description: JSON.stringify({ type: answer.type, sdp: answer.sdp, role: 'broadcaster' }),
        });
        await this.flush('out:' + from, pc);
      } catch {
        this.closeOutgoing(from);
      }
    } else {
      const r = this.remote.get(from);
      if (!r?.pc) return;
      try {
        await r.pc.setRemoteDescription({ type: desc.type, sdp: desc.sdp });
        await this.flush('in:' + from, r.pc);
      } catch (err) {
        this.store.notice(`Could not connect to ${esc(from)}'s camera: ${esc(String(err))}`);
      }
    }
  }

  private async onCandidate(from: string, raw: string): Promise<void> {
    let cand: RTCIceCandidateInit & { role?: Role };
    try {
      cand = JSON.parse(raw);
    } catch {
      return;
    }
    const role = cand.role || (this.remote.has(from) ? 'broadcaster' : 'viewer');
    delete cand.role;
    // A candidate from a viewer belongs to my outgoing connection, and vice versa.
    const key = (role === 'viewer' ? 'out:' : 'in:') + from;
    const pc = role === 'viewer' ? this.outgoing.get(from) : this.remote.get(from)?.pc;
    if (pc && pc.remoteDescription) {
      try {
        await pc.addIceCandidate(cand);
      } catch {
        // A stale candidate after a renegotiation: harmless.
      }
    } else {
      const list = this.queued.get(key) || [];
      list.push(cand);
      this.queued.set(key, list);
    }
  }

  private async flush(key: string, pc: RTCPeerConnection): Promise<void> {
    const list = this.queued.get(key) || [];
    this.queued.delete(key);
    for (const c of list) {
      try {
        await pc.addIceCandidate(c);
      } catch {
        // ignore
      }
    }
  }

  // ------------------------------------------------------------------ closing
  private closeRemote(name: string, notify: boolean): void {
    const r = this.remote.get(name);
    if (!r) return;
    r.pc?.close();
    this.remote.delete(name);
    this.queued.delete('in:' + name);
    if (notify && r.state !== 'requesting') this.store.send({ action: 'unwatch', username: name });
    this.store.changed();
  }

  private closeOutgoing(name: string): void {
    const pc = this.outgoing.get(name);
    this.outgoing.delete(name);
    this.queued.delete('out:' + name);
    pc?.close();
  }

  // The server refused an `open`: drop the tiles still waiting for an answer.
  cancelRequests(): void {
    for (const [name, r] of [...this.remote]) if (r.state === 'requesting') this.closeRemote(name, false);
  }

  bootViewer(name: string): void {
    this.closeOutgoing(name);
    this.watchers.delete(name);
    this.store.changed();
  }

  // Someone left, was blocked or blocked us: both directions end.
  closePeer(name: string): void {
    this.closeRemote(name, false);
    this.closeOutgoing(name);
    this.watchers.delete(name);
    this.store.changed();
  }

  closeExplicit(): void {
    for (const name of [...this.remote.keys()]) {
      const w = this.store.whoMap.get(name);
      if (w && w.video & VIDEO_NSFW) this.closeRemote(name, true);
    }
  }

  closeAll(notify: boolean): void {
    for (const name of [...this.remote.keys()]) this.closeRemote(name, notify);
    for (const name of [...this.outgoing.keys()]) this.closeOutgoing(name);
    this.watchers.clear();
  }

  // The Who list changed: close cameras that went off, or whose owner left or turned red
  // while I prefer not to see explicit cameras (pages.md §7.4).
  onWho(_before: Map<string, WhoEntry>): void {
    for (const name of [...this.remote.keys()]) {
      const w = this.store.whoMap.get(name);
      const r = this.remote.get(name)!;
      if (r.state === 'requesting' && w && w.video & VIDEO_ACTIVE) continue;
      if (!w || !(w.video & VIDEO_ACTIVE)) this.closeRemote(name, false);
      else if (w.video & VIDEO_NSFW && !this.store.prefs.showExplicit) this.closeRemote(name, true);
    }
    for (const name of [...this.outgoing.keys()]) {
      if (!this.store.whoMap.has(name)) this.closeOutgoing(name);
    }
    for (const name of [...this.watchers]) {
      if (!this.store.whoMap.has(name)) this.watchers.delete(name);
    }
  }
}
