// Short notification tones made with Web Audio (no sound files to download).

import type { Prefs } from './prefs';

let ctx: AudioContext | null = null;
const TONES: Record<string, [number, number][]> = {
  chat: [[660, 0.08]],
  dm: [[880, 0.08], [1175, 0.1]],
  enter: [[523, 0.07], [784, 0.09]],
  leave: [[784, 0.07], [523, 0.09]],
  watch: [[988, 0.06]],
};

export function playSound(prefs: Prefs, kind: keyof typeof TONES): void {
  if (!prefs.sounds || !TONES[kind]) return;
  try {
    if (!ctx || ctx.state !== 'running') return; // browsers allow audio only after a user gesture
    let t = ctx.currentTime;
    for (const [freq, len] of TONES[kind]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.08, t);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + len);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + len);
      t += len;
    }
  } catch {
    // No audio available.
  }
}

// Called on a user gesture so later notifications may play.
export function unlockAudio(): void {
  try {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') void ctx.resume();
  } catch {
    // No audio available.
  }
}
