// Preferences remembered by the browser (localStorage "barertc.prefs").

export type WhoSort = 'a-z' | 'z-a' | 'camera' | 'status' | 'op' | 'login';

export interface Prefs {
  sounds: boolean;
  showExplicit: boolean;
  dnd: boolean;
  timestamps: boolean;
  theme: 'light' | 'dark';
  whoSort: WhoSort;
  joinNotices: boolean;
  videoDevice: string;
  audioDevice: string;
}

const KEY = 'barertc.prefs';

export function defaultPrefs(): Prefs {
  const dark = typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
  return {
    sounds: true,
    showExplicit: PermitNSFW,
    dnd: false,
    timestamps: true,
    theme: dark ? 'dark' : 'light',
    whoSort: 'a-z',
    joinNotices: true,
    videoDevice: '',
    audioDevice: '',
  };
}

export function loadPrefs(): Prefs {
  const base = defaultPrefs();
  try {
    const raw = localStorage.getItem(KEY);
    if (raw) return { ...base, ...JSON.parse(raw) };
  } catch {
    // Private mode or corrupt value: use the defaults.
  }
  return base;
}

export function savePrefs(p: Prefs): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(p));
  } catch {
    // Not fatal: the preferences just won't persist.
  }
}
