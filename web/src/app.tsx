import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import {
  Store,
  Channel,
  ChatMessage,
  WhoEntry,
  STATUSES,
  VIDEO_ACTIVE,
  VIDEO_INVITED,
  VIDEO_MUTUAL,
  VIDEO_NSFW,
  VIDEO_VIP,
  MAX_IMAGE_BYTES,
} from './store';
import type { WhoSort } from './prefs';
import { unlockAudio } from './sound';
import * as Icon from './icons';

const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🔥'];

function useStore(store: Store): void {
  const [, force] = useReducer((x: number, _: void) => x + 1, 0);
  useEffect(() => {
    const off = store.subscribe(() => force());
    return () => void off();
  }, [store]);
}

// ------------------------------------------------------------------ small pieces
function Modal(props: { title: string; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current!;
    const back = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    return () => {
      if (d.open) d.close();
      back?.focus?.();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={'modal' + (props.wide ? ' modal-wide' : '')}
      aria-label={props.title}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
      onClick={(e) => e.target === ref.current && props.onClose()}
    >
      <div class="modal-box">
        <header class="modal-head">
          <h2>{props.title}</h2>
          <button type="button" class="icon-btn" aria-label="Close" onClick={props.onClose}>
            <Icon.Close />
          </button>
        </header>
        <div class="modal-body">{props.children}</div>
      </div>
    </dialog>
  );
}

function avatarURL(w: WhoEntry | undefined, name: string): string {
  if (w?.avatar) return w.avatar;
  const letter = (name || '?').trim().charAt(0).toUpperCase() || '?';
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 360;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" rx="20" fill="hsl(${h},55%,45%)"/>` +
    `<text x="20" y="26" font-family="sans-serif" font-size="18" text-anchor="middle" fill="#fff">${letter
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')}</text></svg>`;
  return 'data:image/svg+xml,' + encodeURIComponent(svg);
}

function Avatar({ store, name, size = 32 }: { store: Store; name: string; size?: number }) {
  const w = store.whoMap.get(name);
  const src = name === 'ChatServer' ? avatarURL(undefined, '★') : avatarURL(w, name);
  return <img class="avatar" src={src} width={size} height={size} alt="" loading="lazy" />;
}

function timeLabel(d: Date): string {
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function statusLabel(s: string): string {
  return STATUSES.find(([k]) => k === s)?.[1] || s;
}

function CameraButton({ store, w }: { store: Store; w: WhoEntry }) {
  if (!(w.video & VIDEO_ACTIVE) || w.username === store.username) return null;
  const red = !!(w.video & VIDEO_NSFW);
  const open = store.cameras.remote.has(w.username);
  const tags = [
    red ? 'explicit' : '',
    w.video & VIDEO_MUTUAL ? 'mutual: share yours first' : '',
    w.video & VIDEO_VIP ? `${VIP.Name} only` : '',
    w.video & VIDEO_INVITED ? 'you are invited' : '',
  ].filter(Boolean);
  const label = `${open ? 'Close' : 'Open'} ${store.displayName(w.username)}'s camera${tags.length ? ' (' + tags.join(', ') + ')' : ''}`;
  return (
    <button
      type="button"
      class={'cam-btn ' + (red ? 'cam-red' : 'cam-blue') + (open ? ' cam-open' : '')}
      aria-label={label}
      title={label}
      aria-pressed={open}
      data-camera={w.username}
      onClick={() => (open ? store.cameras.close(w.username) : store.cameras.open(w.username))}
    >
      <Icon.Camera />
      {w.video & VIDEO_MUTUAL ? <span class="cam-tag">⇄</span> : null}
      {w.video & VIDEO_VIP ? <span class="cam-tag">★</span> : null}
    </button>
  );
}

// ------------------------------------------------------------------ entry
function Entry({ store }: { store: Store }) {
  const [nick, setNick] = useState('');
  const [error, setError] = useState('');
  const first = PublicChannels?.[0];
  const rules = (first?.WelcomeMessages || []).filter(Boolean);
  const jwtName = store.jwtValid ? store.claims.nick || store.claims.sub || '' : '';
  const submit = (e: Event) => {
    e.preventDefault();
    unlockAudio();
    if (!jwtName) {
      const n = nick.trim();
      if (!n) return setError('Please choose a nickname.');
      if (n.length > 32) return setError('Nicknames are at most 32 characters.');
      if (/^(chatserver|ChatServer)$/i.test(n)) return setError('That nickname is reserved.');
    }
    store.enter(nick);
  };
  return (
    <main class="entry">
      <form class="entry-card" onSubmit={submit} aria-labelledby="entry-title">
        <h1 id="entry-title" dangerouslySetInnerHTML={{ __html: Branding || document.title }} />
        {rules.length ? (
          <section class="entry-rules" aria-label="Room rules">
            <h2>Before you enter</h2>
            {rules.map((r) => (
              <div class="md" dangerouslySetInnerHTML={{ __html: simpleMarkdown(r) }} />
            ))}
          </section>
        ) : null}
        {DMDisclaimer ? <p class="entry-note" dangerouslySetInnerHTML={{ __html: DMDisclaimer }} /> : null}
        {jwtName ? (
          <p class="entry-who">
            You are signed in as <strong>{jwtName}</strong>.
          </p>
        ) : (
          <label class="field">
            <span>Nickname</span>
            <input
              id="nickname"
              name="nickname"
              autoFocus
              autoComplete="nickname"
              maxLength={32}
              value={nick}
              onInput={(e) => setNick((e.target as HTMLInputElement).value)}
              aria-invalid={!!error}
              aria-describedby="nick-error"
            />
          </label>
        )}
        <p id="nick-error" class="error" role="alert">
          {error}
        </p>
        <p class="entry-accept">By entering you agree to follow the rules of the room.</p>
        <button type="submit" class="btn btn-primary btn-big" id="enter-chat" autoFocus={!!jwtName}>
          Enter chat room
        </button>
        <p class="entry-links">
          <a href="/about" target="_blank" rel="noopener">
            About this chat room
          </a>
          {WebsiteURL ? (
            <>
              {' · '}
              <a href={WebsiteURL}>Back to the website</a>
            </>
          ) : null}
        </p>
      </form>
    </main>
  );
}

// The welcome texts are Markdown in settings; the server renders them for the room, here a
// tiny subset (paragraphs, numbered/bulleted lists, bold) is enough for the entry card.
function simpleMarkdown(md: string): string {
  const escd = md.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const blocks = escd.split(/\n{2,}/);
  return blocks
    .map((b) => {
      const lines = b.split('\n');
      if (lines.every((l) => /^\s*(\d+\.|[-*])\s+/.test(l))) {
        const ordered = /^\s*\d+\./.test(lines[0]);
        const items = lines.map((l) => `<li>${l.replace(/^\s*(\d+\.|[-*])\s+/, '')}</li>`).join('');
        return ordered ? `<ol>${items}</ol>` : `<ul>${items}</ul>`;
      }
      return `<p>${b.replace(/\n/g, '<br>')}</p>`;
    })
    .join('')
    .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>');
}

// ------------------------------------------------------------------ channels
function ChannelList({ store, onPick }: { store: Store; onPick: () => void }) {
  const item = (c: Channel) => (
    <li>
      <button
        type="button"
        class={'chan' + (c.id === store.active ? ' chan-active' : '')}
        aria-current={c.id === store.active ? 'page' : undefined}
        data-channel={c.id}
        onClick={() => {
          store.select(c.id);
          onPick();
        }}
      >
        {c.dm ? <Avatar store={store} name={c.name} size={20} /> : <span class="chan-hash">#</span>}
        <span class="chan-name">{c.dm ? store.displayName(c.name) : c.name}</span>
        {c.unread ? (
          <span class={'badge' + (c.mentioned || c.dm ? ' badge-hot' : '')} aria-label={`${c.unread} unread`}>
            {c.unread}
          </span>
        ) : null}
      </button>
      {c.dm ? (
        <button
          type="button"
          class="icon-btn chan-close"
          aria-label={`Close conversation with ${c.name}`}
          onClick={() => store.closeDM(c.id)}
        >
          <Icon.Close />
        </button>
      ) : null}
    </li>
  );
  const dms = store.dmChannels();
  return (
    <nav class="channels" aria-label="Channels">
      <h2 class="side-title">Channels</h2>
      <ul>{store.visibleChannels().map(item)}</ul>
      <h2 class="side-title">Private messages</h2>
      {dms.length ? <ul>{dms.map(item)}</ul> : <p class="muted small">Open a conversation from the Who's online list.</p>}
    </nav>
  );
}

// ------------------------------------------------------------------ messages
function MessageView({
  store,
  ch,
  m,
  onReport,
  onUser,
}: {
  store: Store;
  ch: Channel;
  m: ChatMessage;
  onReport: (m: ChatMessage) => void;
  onUser: (name: string) => void;
}) {
  const [picking, setPicking] = useState(false);
  const mine = m.username === store.username;
  const reactions = m.msgID !== undefined ? store.reactions.get(m.msgID) : undefined;
  if (m.kind === 'presence') {
    return (
      <li class="msg msg-presence">
        {store.prefs.timestamps ? <time>{timeLabel(m.time)}</time> : null}
        <span dangerouslySetInnerHTML={{ __html: m.html }} />
      </li>
    );
  }
  const mention = !mine && store.username && m.html.includes('@' + store.username);
  return (
    <li
      class={'msg' + (m.kind === 'notice' ? ' msg-notice' : '') + (mine ? ' msg-mine' : '') + (mention ? ' msg-mention' : '')}
      data-msgid={m.msgID}
      tabIndex={m.kind === 'chat' ? -1 : undefined}
    >
      <Avatar store={store} name={m.username} />
      <div class="msg-main">
        <div class="msg-head">
          {m.kind === 'chat' && !mine ? (
            <button type="button" class="linkish msg-author" onClick={() => onUser(m.username)}>
              {store.displayName(m.username)}
            </button>
          ) : (
            <span class="msg-author">{m.kind === 'chat' ? store.displayName(m.username) : m.username}</span>
          )}
          {store.prefs.timestamps ? (
            <time dateTime={m.time.toISOString()} title={m.time.toLocaleString()}>
              {timeLabel(m.time)}
            </time>
          ) : null}
        </div>
        <div class={'msg-body md' + (m.image ? ' msg-image' : '')} dangerouslySetInnerHTML={{ __html: m.html }} />
        {reactions && reactions.size ? (
          <div class="reactions">
            {[...reactions].map(([emoji, users]) => (
              <button
                type="button"
                class={'reaction' + (users.has(store.username) ? ' reaction-mine' : '')}
                aria-pressed={users.has(store.username)}
                title={[...users].join(', ')}
                aria-label={`${emoji} ${users.size}: ${[...users].join(', ')}`}
                onClick={() => store.react(m.msgID!, emoji)}
              >
                {emoji} <span>{users.size}</span>
              </button>
            ))}
          </div>
        ) : null}
        {picking ? (
          <div class="emoji-pick" role="group" aria-label="Choose a reaction">
            {REACTIONS.map((e) => (
              <button
                type="button"
                class="emoji-btn"
                aria-label={`React with ${e}`}
                onClick={() => {
                  store.react(m.msgID!, e);
                  setPicking(false);
                }}
              >
                {e}
              </button>
            ))}
            <button type="button" class="icon-btn" aria-label="Cancel" onClick={() => setPicking(false)}>
              <Icon.Close />
            </button>
          </div>
        ) : null}
      </div>
      {m.kind === 'chat' && m.msgID !== undefined ? (
        <div class="msg-actions">
          <button type="button" class="icon-btn" aria-label="Add a reaction" title="React" onClick={() => setPicking(!picking)}>
            <Icon.Smile />
          </button>
          {mine || store.isOp ? (
            <button
              type="button"
              class="icon-btn"
              aria-label="Take back this message"
              title="Take back"
              onClick={() => store.takeback(m.msgID!)}
            >
              <Icon.Trash />
            </button>
          ) : null}
          {!mine && !ch.dm ? (
            <button
              type="button"
              class="icon-btn"
              aria-label={`Message ${m.username} privately`}
              title="Private message"
              onClick={() => store.openDM(m.username)}
            >
              <Icon.Chat />
            </button>
          ) : null}
          {!mine && store.reportEnabled ? (
            <button type="button" class="icon-btn" aria-label="Report this message" title="Report" onClick={() => onReport(m)}>
              <Icon.Flag />
            </button>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

function Messages({ store, onUser }: { store: Store; onUser: (n: string) => void }) {
  const ch = store.activeChannel();
  const ref = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const [reporting, setReporting] = useState<ChatMessage | null>(null);
  const count = ch?.messages.length || 0;
  useEffect(() => {
    const el = ref.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });
  useEffect(() => {
    stick.current = true;
  }, [store.active]);
  if (!ch) return <div class="messages" />;
  return (
    <>
      <ol
        ref={ref}
        class="messages"
        aria-label={`Messages in ${ch.dm ? 'conversation with ' + ch.name : ch.name}`}
        aria-live="polite"
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
        }}
      >
        {ch.dm && ch.historyRemaining > 0 ? (
          <li class="history-more">
            <button type="button" class="btn btn-small" onClick={() => store.loadHistory(ch, true)}>
              Load older messages ({ch.historyRemaining})
            </button>
          </li>
        ) : null}
        {ch.dm && DMDisclaimer ? <li class="msg-disclaimer" dangerouslySetInnerHTML={{ __html: DMDisclaimer }} /> : null}
        {count === 0 ? <li class="empty muted">No messages yet. Say hello!</li> : null}
        {ch.messages.map((m) => (
          <MessageView key={m.key} store={store} ch={ch} m={m} onReport={setReporting} onUser={onUser} />
        ))}
      </ol>
      {reporting ? (
        <ReportDialog
          title="Report a message"
          onClose={() => setReporting(null)}
          onSend={(reason, comment) => {
            store.report(ch, reporting, reason, comment);
            setReporting(null);
          }}
        />
      ) : null}
    </>
  );
}

function ReportDialog(props: { title: string; onClose: () => void; onSend: (reason: string, comment: string) => void }) {
  const [reason, setReason] = useState('It is spam');
  const [comment, setComment] = useState('');
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          props.onSend(reason, comment);
        }}
      >
        <label class="field">
          <span>Reason</span>
          <select value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value)}>
            <option>It is spam</option>
            <option>It is abusive or harassing</option>
            <option>It breaks the rules of the room</option>
            <option>It involves a minor</option>
            <option>Something else</option>
          </select>
        </label>
        <label class="field">
          <span>Comment (optional)</span>
          <textarea rows={3} value={comment} onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)} />
        </label>
        <div class="modal-actions">
          <button type="button" class="btn" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-danger">
            Send report
          </button>
        </div>
      </form>
    </Modal>
  );
}

function Composer({ store }: { store: Store }) {
  const [text, setText] = useState('');
  const ch = store.activeChannel();
  const photos = store.canShareImages(ch);
  const fileRef = useRef<HTMLInputElement>(null);
  const send = () => {
    if (!text.trim()) return;
    store.post(text);
    setText('');
  };
  const disabled = store.conn !== 'online' || !store.loggedIn;
  const target = ch ? (ch.dm ? '@' + store.displayName(ch.name) : '#' + ch.name) : '';
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      {photos ? (
        <>
          <label class="icon-btn composer-photo" title="Share a picture">
            <Icon.Image />
            <span class="sr-only">Share a picture</span>
            <input
              ref={fileRef}
              id="image-input"
              type="file"
              accept="image/jpeg,image/png,image/gif"
              class="sr-only"
              disabled={disabled}
              onChange={(e) => {
                const input = e.target as HTMLInputElement;
                const f = input.files?.[0];
                if (f) void store.shareImage(f);
                input.value = '';
              }}
            />
          </label>
        </>
      ) : null}
      <label class="sr-only" for="composer-text">
        Message {target}
      </label>
      <textarea
        id="composer-text"
        rows={1}
        placeholder={disabled ? 'Connecting…' : `Message ${target}`}
        value={text}
        maxLength={4000}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
        onPaste={(e) => {
          const file = [...(e.clipboardData?.files || [])].find((f) => f.type.startsWith('image/'));
          if (file) {
            e.preventDefault();
            if (photos) void store.shareImage(file);
            else store.notice('Pictures cannot be shared in this channel.');
          }
        }}
      />
      <button type="submit" class="btn btn-primary" id="send-btn" disabled={disabled || !text.trim()} aria-label="Send">
        <Icon.Send />
      </button>
    </form>
  );
}

// ------------------------------------------------------------------ who's online
const SORTS: [WhoSort, string][] = [
  ['a-z', 'Name A–Z'],
  ['z-a', 'Name Z–A'],
  ['camera', 'Cameras first'],
  ['status', 'By status'],
  ['op', 'Operators first'],
  ['login', 'Newest first'],
];

function sortWho(list: WhoEntry[], sort: WhoSort): WhoEntry[] {
  const by = (f: (w: WhoEntry) => number | string) => (a: WhoEntry, b: WhoEntry) => {
    const x = f(a),
      y = f(b);
    return x < y ? -1 : x > y ? 1 : a.username.localeCompare(b.username);
  };
  const l = [...list];
  switch (sort) {
    case 'z-a':
      return l.sort((a, b) => b.username.localeCompare(a.username));
    case 'camera':
      return l.sort(by((w) => (w.video & VIDEO_ACTIVE ? (w.video & VIDEO_NSFW ? 1 : 0) : 2)));
    case 'status':
      return l.sort(by((w) => (w.status === 'online' ? '' : w.status)));
    case 'op':
      return l.sort(by((w) => (w.op ? 0 : 1)));
    case 'login':
      return l.sort(by((w) => -w.loginAt));
    default:
      return l.sort((a, b) => a.username.localeCompare(b.username));
  }
}

function WhoList({ store, onUser }: { store: Store; onUser: (n: string) => void }) {
  const list = useMemo(() => sortWho(store.who, store.prefs.whoSort), [store.who, store.prefs.whoSort]);
  return (
    <aside class="who" aria-label="Who's online">
      <div class="who-head">
        <h2 class="side-title">
          Who's online <span class="count">{store.who.length}</span>
        </h2>
        <label class="sr-only" for="who-sort">
          Sort the list
        </label>
        <select
          id="who-sort"
          class="select-small"
          value={store.prefs.whoSort}
          onChange={(e) => store.setPrefs({ whoSort: (e.target as HTMLSelectElement).value as WhoSort })}
        >
          {SORTS.map(([k, label]) => (
            <option value={k}>{label}</option>
          ))}
        </select>
      </div>
      <ul class="who-list">
        {list.map((w) => (
          <li class={'who-row' + (store.muted.has(w.username) ? ' who-muted' : '')} data-user={w.username}>
            <button type="button" class="who-user" onClick={() => onUser(w.username)} aria-label={`Options for ${w.username}`}>
              <span class="who-avatar">
                <Avatar store={store} name={w.username} />
                <span class={'dot dot-' + (w.status === 'online' ? 'online' : w.status === 'idle' ? 'idle' : 'away')} />
              </span>
              <span class="who-text">
                <span class="who-name">
                  {w.nickname || w.username}
                  {w.emoji ? <span aria-hidden="true"> {w.emoji}</span> : null}
                  {w.op ? <span class="tag tag-op" title="Operator">op</span> : null}
                  {w.vip ? <span class="tag tag-vip" title={VIP.Name}>{VIP.Name}</span> : null}
                  {w.username === store.username ? <span class="tag">you</span> : null}
                </span>
                <span class="who-status">
                  {statusLabel(w.status)}
                  {w.dnd ? ' · do not disturb' : ''}
                  {store.muted.has(w.username) ? ' · muted' : ''}
                </span>
              </span>
            </button>
            <CameraButton store={store} w={w} />
          </li>
        ))}
      </ul>
    </aside>
  );
}

interface Profile {
  OK: boolean;
  Headline?: string;
  ProfileFields?: { Name: string; Value: string }[];
}

// Profile details from the host website, when its profile webhook is on (api.md §11).
function useProfile(store: Store, name: string): Profile | null {
  const [profile, setProfile] = useState<Profile | null>(null);
  useEffect(() => {
    if (!store.profileEnabled || !store.jwtValid || !store.jwt) return;
    let live = true;
    fetch('/api/profile', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ JWTToken: store.jwt, Username: name }),
    })
      .then((r) => (r.ok ? r.json() : null))
      .then((p: Profile | null) => live && p?.OK && setProfile(p))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [name]);
  return profile;
}

function UserCard({ store, name, onClose }: { store: Store; name: string; onClose: () => void }) {
  const [reporting, setReporting] = useState(false);
  const profile = useProfile(store, name);
  const w = store.whoMap.get(name);
  const me = name === store.username;
  const broadcasting = store.cameras.local.active;
  const act = (f: () => void) => () => {
    f();
    onClose();
  };
  if (reporting) {
    return (
      <ReportDialog
        title={`Report ${name}`}
        onClose={onClose}
        onSend={(reason, comment) => {
          store.reportUser(name, reason, comment);
          onClose();
        }}
      />
    );
  }
  return (
    <Modal title={w?.nickname || name} onClose={onClose}>
      <div class="card-head">
        <Avatar store={store} name={name} size={64} />
        <div>
          <div class="card-name">
            {w?.nickname || name} {w?.emoji}
          </div>
          <div class="muted">@{name}</div>
          {w ? <div class="muted">{statusLabel(w.status)}{w.gender ? ' · ' + w.gender : ''}</div> : <div class="muted">Not online</div>}
          {w?.profileURL ? (
            <a href={w.profileURL} target="_blank" rel="noopener">
              View profile
            </a>
          ) : null}
        </div>
      </div>
      {profile ? (
        <section class="profile" aria-label="Profile">
          {profile.Headline ? <p class="profile-headline">{profile.Headline}</p> : null}
          {profile.ProfileFields?.length ? (
            <dl>
              {profile.ProfileFields.map((f) => (
                <>
                  <dt>{f.Name}</dt>
                  <dd>{f.Value}</dd>
                </>
              ))}
            </dl>
          ) : null}
        </section>
      ) : null}
      {me ? (
        <p class="muted">This is you.</p>
      ) : (
        <div class="card-actions">
          <button type="button" class="btn" onClick={act(() => store.openDM(name))}>
            <Icon.Chat /> Send a message
          </button>
          {w && w.video & VIDEO_ACTIVE ? (
            <button type="button" class="btn" onClick={act(() => store.cameras.open(name))}>
              <Icon.Camera /> Open camera
            </button>
          ) : null}
          <button type="button" class="btn" onClick={act(() => store.toggleMute(name))}>
            {store.muted.has(name) ? 'Unmute' : 'Mute'}
          </button>
          {broadcasting && !store.invited.has(name) ? (
            <button type="button" class="btn" onClick={act(() => store.invite(name))}>
              Invite to my camera
            </button>
          ) : null}
          {broadcasting || store.booted.has(name) ? (
            <button type="button" class="btn" onClick={act(() => store.toggleBoot(name))}>
              {store.booted.has(name) ? 'Allow back on my camera' : 'Boot from my camera'}
            </button>
          ) : null}
          <button type="button" class="btn btn-danger" onClick={act(() => store.block(name))}>
            Block
          </button>
          {store.reportEnabled ? (
            <button type="button" class="btn" onClick={() => setReporting(true)}>
              <Icon.Flag /> Report
            </button>
          ) : null}
        </div>
      )}
      {store.isOp && !me ? (
        <section class="card-ops" aria-label="Operator actions">
          <h3>Operator</h3>
          <div class="card-actions">
            <button type="button" class="btn" onClick={act(() => store.command('kick', name))}>
              Kick
            </button>
            <button type="button" class="btn btn-danger" onClick={act(() => store.command('ban', name))}>
              Ban 24 h
            </button>
            {w && w.video & VIDEO_ACTIVE ? (
              <>
                <button type="button" class="btn" onClick={act(() => store.command('nsfw', name))}>
                  Mark camera explicit
                </button>
                <button type="button" class="btn" onClick={act(() => store.command('cut', name))}>
                  Cut camera
                </button>
              </>
            ) : null}
          </div>
        </section>
      ) : null}
    </Modal>
  );
}

// ------------------------------------------------------------------ cameras
function Video(props: { stream: MediaStream | null; muted: boolean; mirror?: boolean; label: string; onAutoMuted?: () => void }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = ref.current!;
    if (v.srcObject !== props.stream) v.srcObject = props.stream;
    if (props.stream) {
      v.play().catch(() => {
        // Autoplay with sound may be refused until the user interacts: play muted.
        v.muted = true;
        props.onAutoMuted?.();
        v.play().catch(() => undefined);
      });
    }
  }, [props.stream]);
  useEffect(() => {
    ref.current!.muted = props.muted;
  }, [props.muted]);
  return <video ref={ref} class={props.mirror ? 'mirror' : ''} autoPlay playsInline muted={props.muted} aria-label={props.label} />;
}

function Cameras({ store, onWatchers }: { store: Store; onWatchers: () => void }) {
  const cams = store.cameras;
  const remotes = [...cams.remote.values()];
  if (!cams.local.active && !remotes.length) return null;
  return (
    <section class="videos" aria-label="Cameras">
      {cams.local.active ? (
        <div class="tile tile-local" data-tile="self">
          <Video stream={cams.local.stream} muted={true} mirror label="Your camera" />
          <div class="tile-bar">
            <span class="tile-name">You</span>
            {PermitNSFW ? (
              <button
                type="button"
                class={'tile-btn' + (cams.local.nsfw ? ' tile-btn-red' : '')}
                aria-pressed={cams.local.nsfw}
                disabled={cams.local.nsfw && !!store.rules?.IsRedCamRule}
                title="Mark my camera as Explicit"
                aria-label="Explicit camera"
                onClick={() => cams.setLocalOption({ nsfw: !cams.local.nsfw })}
              >
                18+
              </button>
            ) : null}
            <button type="button" class="tile-btn" id="watchers-btn" onClick={onWatchers} aria-label={`${cams.watchers.size} watching`}>
              <Icon.Eye /> {cams.watchers.size}
            </button>
            <button
              type="button"
              class="tile-btn"
              aria-pressed={cams.local.micMuted}
              aria-label={cams.local.micMuted ? 'Unmute my microphone' : 'Mute my microphone'}
              onClick={() => cams.setLocalOption({ micMuted: !cams.local.micMuted })}
            >
              {cams.local.micMuted ? <Icon.MicOff /> : <Icon.Mic />}
            </button>
          </div>
        </div>
      ) : null}
      {remotes.map((r) => (
        <div class="tile" data-tile={r.username} key={r.username}>
          <Video
            stream={r.stream}
            muted={r.audioMuted}
            label={`${r.username}'s camera`}
            onAutoMuted={() => !r.audioMuted && cams.toggleAudio(r.username)}
          />
          {r.state !== 'live' ? (
            <div class="tile-state">{r.state === 'failed' ? 'Connection failed' : 'Connecting…'}</div>
          ) : null}
          <div class="tile-bar">
            <span class="tile-name">{store.displayName(r.username)}</span>
            <button
              type="button"
              class="tile-btn"
              aria-pressed={r.audioMuted}
              aria-label={r.audioMuted ? `Unmute ${r.username}` : `Mute ${r.username}`}
              onClick={() => cams.toggleAudio(r.username)}
            >
              {r.audioMuted ? <Icon.SpeakerOff /> : <Icon.Speaker />}
            </button>
            <button type="button" class="tile-btn" aria-label={`Close ${r.username}'s camera`} onClick={() => cams.close(r.username)}>
              <Icon.Close />
            </button>
          </div>
        </div>
      ))}
    </section>
  );
}

function WatchersDialog({ store, onClose }: { store: Store; onClose: () => void }) {
  const list = [...store.cameras.watchers];
  return (
    <Modal title="Watching your camera" onClose={onClose}>
      {list.length ? (
        <ul class="plain-list">
          {list.map((n) => (
            <li class="row">
              <Avatar store={store} name={n} size={24} /> <span class="grow">{store.displayName(n)}</span>
              <button type="button" class="btn btn-small" onClick={() => store.toggleBoot(n)}>
                Boot
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">Nobody is watching right now.</p>
      )}
    </Modal>
  );
}

function CameraDialog({ store, onClose }: { store: Store; onClose: () => void }) {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [video, setVideo] = useState(store.prefs.videoDevice);
  const [audio, setAudio] = useState(store.prefs.audioDevice);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState('');
  const [opts, setOpts] = useState({
    nsfw: store.cameras.local.nsfw || !!store.rules?.IsRedCamRule,
    mutual: store.cameras.local.mutual,
    mutualOpen: store.cameras.local.mutualOpen,
    vipOnly: store.cameras.local.vipOnly,
    micMuted: store.cameras.local.micMuted,
  });
  const started = useRef(false);
  const streamRef = useRef<MediaStream | null>(null);

  useEffect(() => {
    let cancelled = false;
    const constraints: MediaStreamConstraints = {
      video: video ? { deviceId: { exact: video } } : true,
      audio: audio === 'none' ? false : audio ? { deviceId: { exact: audio } } : true,
    };
    navigator.mediaDevices
      .getUserMedia(constraints)
      .catch(() => navigator.mediaDevices.getUserMedia({ video: true, audio: audio !== 'none' }))
      .then(async (s) => {
        if (cancelled) return s.getTracks().forEach((t) => t.stop());
        streamRef.current?.getTracks().forEach((t) => t.stop());
        streamRef.current = s;
        setStream(s);
        setError('');
        setDevices(await navigator.mediaDevices.enumerateDevices());
      })
      .catch((err: Error) => {
        if (!cancelled) setError(`Your camera could not be started: ${err.message || err.name}.`);
      });
    return () => {
      cancelled = true;
    };
  }, [video, audio]);
  useEffect(
    () => () => {
      if (!started.current) streamRef.current?.getTracks().forEach((t) => t.stop());
    },
    [],
  );

  const cams = devices.filter((d) => d.kind === 'videoinput');
  const mics = devices.filter((d) => d.kind === 'audioinput');
  const check = (key: keyof typeof opts, label: string, hint?: string, disabled = false) => (
    <label class="check">
      <input
        type="checkbox"
        name={key}
        checked={opts[key]}
        disabled={disabled}
        onChange={(e) => setOpts({ ...opts, [key]: (e.target as HTMLInputElement).checked })}
      />
      <span>
        {label}
        {hint ? <small class="muted"> — {hint}</small> : null}
      </span>
    </label>
  );
  return (
    <Modal title="Share your webcam" onClose={onClose} wide>
      <div class="cam-setup">
        <div class="cam-preview">
          {stream ? <Video stream={stream} muted mirror label="Camera preview" /> : <div class="tile-state">{error || 'Starting camera…'}</div>}
        </div>
        <div class="cam-options">
          <label class="field">
            <span>Camera</span>
            <select
              id="camera-select"
              value={stream?.getVideoTracks()[0]?.getSettings().deviceId || video}
              onChange={(e) => setVideo((e.target as HTMLSelectElement).value)}
            >
              {cams.map((d, i) => (
                <option value={d.deviceId}>{d.label || `Camera ${i + 1}`}</option>
              ))}
            </select>
          </label>
          <label class="field">
            <span>Microphone</span>
            <select
              id="mic-select"
              value={audio === 'none' ? 'none' : stream?.getAudioTracks()[0]?.getSettings().deviceId || audio}
              onChange={(e) => setAudio((e.target as HTMLSelectElement).value)}
            >
              {mics.map((d, i) => (
                <option value={d.deviceId}>{d.label || `Microphone ${i + 1}`}</option>
              ))}
              <option value="none">No microphone</option>
            </select>
          </label>
          {PermitNSFW ? check('nsfw', 'Explicit', 'mark my camera red', !!store.rules?.IsRedCamRule) : null}
          {check('mutual', 'Mutual only', 'viewers must share their camera too')}
          {check('mutualOpen', 'Auto-open', "open the camera of whoever opens mine")}
          {store.isVip ? check('vipOnly', `${VIP.Name} only`, `only ${VIP.Name} members can see my camera`) : null}
          {check('micMuted', 'Start with my microphone muted')}
          {error ? (
            <p class="error" role="alert">
              {error}
            </p>
          ) : null}
          <div class="modal-actions">
            <button type="button" class="btn" onClick={onClose}>
              Cancel
            </button>
            <button
              type="button"
              class="btn btn-primary"
              id="start-camera"
              disabled={!stream}
              onClick={() => {
                if (!stream) return;
                started.current = true;
                store.setPrefs({
                  videoDevice: stream.getVideoTracks()[0]?.getSettings().deviceId || '',
                  audioDevice: audio === 'none' ? 'none' : stream.getAudioTracks()[0]?.getSettings().deviceId || '',
                });
                void store.cameras.startLocal(stream, opts);
                onClose();
              }}
            >
              Start broadcasting
            </button>
          </div>
        </div>
      </div>
    </Modal>
  );
}

// ------------------------------------------------------------------ settings
function SettingsDialog({ store, onClose }: { store: Store; onClose: () => void }) {
  const p = store.prefs;
  const check = (key: 'sounds' | 'showExplicit' | 'dnd' | 'timestamps' | 'joinNotices', label: string, hint?: string) => (
    <label class="check">
      <input type="checkbox" name={key} checked={p[key]} onChange={(e) => store.setPrefs({ [key]: (e.target as HTMLInputElement).checked })} />
      <span>
        {label}
        {hint ? <small class="muted"> — {hint}</small> : null}
      </span>
    </label>
  );
  return (
    <Modal title="Settings" onClose={onClose}>
      <div class="stack">
        <label class="field">
          <span>Theme</span>
          <select
            id="theme-select"
            value={p.theme}
            onChange={(e) => store.setPrefs({ theme: (e.target as HTMLSelectElement).value as 'light' | 'dark' })}
          >
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
        {check('sounds', 'Sounds', 'a short tone for new messages and arrivals')}
        {check('timestamps', 'Show timestamps')}
        {check('joinNotices', 'Show when people join and leave')}
        {check('dnd', 'Do not disturb', 'close my private messages to new conversations')}
        {PermitNSFW ? check('showExplicit', 'Show explicit cameras', 'red camera icons can be opened') : null}
        <p class="row-links">
          <a href="/about" target="_blank" rel="noopener">
            About and help
          </a>
          {' · '}
          <a href="/logout">Log out</a>
        </p>
      </div>
    </Modal>
  );
}

// ------------------------------------------------------------------ the page
function Banner({ store }: { store: Store }) {
  const [, tick] = useReducer((x: number, _: void) => x + 1, 0);
  useEffect(() => {
    if (store.conn !== 'offline') return;
    const t = window.setInterval(() => tick(), 500);
    return () => window.clearInterval(t);
  }, [store.conn]);
  if (store.conn === 'stopped') {
    return (
      <div class="banner banner-stop" role="alert" id="conn-banner">
        {store.stopReason || 'You are disconnected.'}{' '}
        <button type="button" class="btn btn-small" onClick={() => location.reload()}>
          Reload the page
        </button>
      </div>
    );
  }
  if (store.conn === 'online' && store.loggedIn) return null;
  if (store.conn === 'idle') return null;
  const secs = Math.max(0, Math.ceil((store.retryAt - Date.now()) / 1000));
  return (
    <div class="banner" role="status" id="conn-banner">
      {store.conn === 'offline' ? (
        <>
          <strong>Connection lost.</strong> Reconnecting{secs ? ` in ${secs} s` : ''}…{' '}
          <button type="button" class="btn btn-small" onClick={() => store.reconnectNow()}>
            Reconnect now
          </button>
        </>
      ) : store.conn === 'online' ? (
        <>Signing in…</>
      ) : (
        <>Connecting to the chat server…</>
      )}
    </div>
  );
}

export function App({ store }: { store: Store }) {
  useStore(store);
  const [drawer, setDrawer] = useState<'channels' | 'who' | null>(null);
  const [dialog, setDialog] = useState<'settings' | 'camera' | 'watchers' | null>(null);
  const [user, setUser] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const unread = [...store.channels.values()].reduce((n, c) => n + c.unread, 0);
    document.title = (unread ? `(${unread}) ` : '') + (document.title.replace(/^\(\d+\) /, '') || 'Chat');
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && drawer) setDrawer(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [drawer]);

  if (!store.entered) return <Entry store={store} />;
  const ch = store.activeChannel();
  const unreadTotal = [...store.channels.values()].reduce((n, c) => n + c.unread, 0);
  const cam = store.cameras.local;
  const pickUser = (n: string) => {
    setUser(n);
    setDrawer(null);
  };
  return (
    <div class={'layout' + (drawer ? ' drawer-' + drawer : '')}>
      <header class="topbar">
        <button
          type="button"
          class="icon-btn only-phone"
          aria-label="Channels"
          aria-expanded={drawer === 'channels'}
          id="channels-toggle"
          onClick={() => setDrawer(drawer === 'channels' ? null : 'channels')}
        >
          <Icon.Menu />
          {unreadTotal ? <span class="dot-badge" /> : null}
        </button>
        <div class="brand" dangerouslySetInnerHTML={{ __html: Branding }} />
        <div class="topbar-title">{ch ? (ch.dm ? '@' + store.displayName(ch.name) : '#' + ch.name) : ''}</div>
        <div class="topbar-actions">
          {cam.active ? (
            <button type="button" class="btn btn-danger btn-cam" id="stop-camera" onClick={() => store.cameras.stopLocal()}>
              <Icon.Camera /> <span class="hide-phone">Stop camera</span>
            </button>
          ) : (
            <button
              type="button"
              class="btn btn-primary btn-cam"
              id="share-camera"
              disabled={!store.loggedIn || !!store.rules?.IsNoBroadcastRule}
              onClick={() => setDialog('camera')}
            >
              <Icon.Camera /> <span class="hide-phone">Share webcam</span>
            </button>
          )}
          <label class="sr-only" for="status-select">
            My status
          </label>
          <select id="status-select" class="select-small" value={store.status} onChange={(e) => store.setStatus((e.target as HTMLSelectElement).value)}>
            {STATUSES.map(([k, label]) => (
              <option value={k}>{label}</option>
            ))}
            {store.isOp ? <option value="hidden">Hidden</option> : null}
          </select>
          <button type="button" class="icon-btn" aria-label="Settings" id="settings-btn" onClick={() => setDialog('settings')}>
            <Icon.Gear />
          </button>
          <button
            type="button"
            class="icon-btn only-phone"
            aria-label="Who's online"
            aria-expanded={drawer === 'who'}
            id="who-toggle"
            onClick={() => setDrawer(drawer === 'who' ? null : 'who')}
          >
            <Icon.People />
          </button>
        </div>
      </header>
      <Banner store={store} />
      <div class="columns">
        <div class="side side-left">
          <ChannelList store={store} onPick={() => setDrawer(null)} />
        </div>
        <main
          class={'center' + (dragging ? ' dragging' : '')}
          onDragOver={(e) => {
            if (e.dataTransfer?.types.includes('Files')) {
              e.preventDefault();
              setDragging(true);
            }
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            const f = e.dataTransfer?.files?.[0];
            if (f) void store.shareImage(f);
          }}
        >
          {store.status === 'hidden' ? <div class="banner banner-warn">You are hidden: nobody sees you in the room.</div> : null}
          <Cameras store={store} onWatchers={() => setDialog('watchers')} />
          <Messages store={store} onUser={pickUser} />
          <Composer store={store} />
          {dragging ? (
            <div class="drop-hint" aria-hidden="true">
              Drop a picture to share it (up to {MAX_IMAGE_BYTES / 1024 / 1024} MB)
            </div>
          ) : null}
        </main>
        <div class="side side-right">
          <WhoList store={store} onUser={pickUser} />
        </div>
        {drawer ? <button type="button" class="scrim only-phone" aria-label="Close panel" onClick={() => setDrawer(null)} /> : null}
      </div>
      {dialog === 'settings' ? <SettingsDialog store={store} onClose={() => setDialog(null)} /> : null}
      {dialog === 'camera' ? <CameraDialog store={store} onClose={() => setDialog(null)} /> : null}
      {dialog === 'watchers' ? <WatchersDialog store={store} onClose={() => setDialog(null)} /> : null}
      {user ? <UserCard store={store} name={user} onClose={() => setUser(null)} /> : null}
    </div>
  );
}
