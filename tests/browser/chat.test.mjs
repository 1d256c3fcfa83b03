// The chat page in real headless Chromium: three people (two desktops and a phone) log in with
// JWTs, chat, DM, react, take back, report, share a picture, broadcast and watch a camera with
// real WebRTC video, boot and block, and survive a server restart.
//
// Run: node --test tests/browser/  (BARERTC_BINARY=path/to/barertc, default build-ci/barertc)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ChatServer, webhookReceiver, CHROMIUM_ARGS, until, repoRoot } from './harness.mjs';

const SHOTS = join(repoRoot, 'docs', 'screenshots');
const WHO_WAIT = 30000; // Who lists start 16 s after a (re)start (protocol.md §19)

let server, hook, browser;
const pages = {}; // name → { page, context, errors }
let allowConnectionErrors = false;

before(async () => {
  hook = await webhookReceiver();
  server = new ChatServer({ reportURL: hook.url });
  await server.start();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    timeout: 30000,
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  await hook?.close().catch(() => {});
});

async function openUser(name, claims, { phone = false } = {}) {
  const context = await browser.newContext(
    phone
      ? { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 800 } },
  );
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    // While the server is deliberately down, Chromium itself logs the refused socket.
    if (allowConnectionErrors && /WebSocket connection to|ERR_CONNECTION_REFUSED/.test(text)) return;
    errors.push(`[${name}] ${text}`);
  });
  page.on('pageerror', (err) => errors.push(`[${name}] page error: ${err.message}`));
  const frames = [];
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => frames.push({ at: Date.now(), sent: true, data: String(f.payload) }));
    ws.on('framereceived', (f) => frames.push({ at: Date.now(), sent: false, data: String(f.payload) }));
  });
  if (claims) {
    const jwt = await server.authenticate({ sub: name, ...claims });
    await page.goto(`${server.url}/?jwt=${encodeURIComponent(jwt)}`);
  } else {
    // A guest: no token, so the entry card asks for a nickname.
    await page.goto(server.url + '/');
    await page.getByLabel('Nickname').fill(name);
  }
  await page.locator('#enter-chat').click();
  pages[name] = { page, context, errors, frames };
  return page;
}

const lastMessage = (page) => page.locator('.messages .msg').last();

async function post(page, text) {
  await page.locator('#composer-text').fill(text);
  await page.locator('#composer-text').press('Enter');
}

async function waitWho(page, names) {
  for (const n of names) {
    await page.locator(`.who-row[data-user="${n}"]`).waitFor({ state: 'attached', timeout: WHO_WAIT });
  }
}

// A remote <video> that really plays: frames have a size and time advances.
async function assertVideoPlays(page, user) {
  const sel = `.tile[data-tile="${user}"] video`;
  await page.locator(sel).waitFor({ timeout: 10000 });
  await page.waitForFunction((s) => document.querySelector(s)?.videoWidth > 0, sel, { timeout: 20000 });
  const t0 = await page.$eval(sel, (v) => v.currentTime);
  await page.waitForFunction(([s, t]) => document.querySelector(s).currentTime > t + 0.3, [sel, t0], {
    timeout: 10000,
  });
}

test('the chat page in headless Chromium', { timeout: 170000 }, async (t) => {
  let alice, bob, carol;

  await t.test('static files, about and logout pages', async () => {
    const css = await fetch(`${server.url}/static/app.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type'), /^text\/css/);
    const missing = await fetch(`${server.url}/static/nope.js`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), '404 page not found\n');
    const about = await fetch(`${server.url}/about`);
    assert.match(await about.text(), /Sharing your webcam/);
    const logout = await fetch(`${server.url}/logout`);
    assert.match(await logout.text(), /logged out/i);
  });

  await t.test('three people enter with JWTs (one on a phone)', async () => {
    alice = await openUser('alice', { nick: 'Alice', vip: true, url: 'https://www.example.com/u/alice' });
    bob = await openUser('bob', {});
    carol = await openUser('carol', {}, { phone: true });
    for (const p of [alice, bob, carol]) {
      await p.locator('#composer-text').waitFor();
      await until('logged in', () => p.evaluate(() => window.barertc.loggedIn), 10000);
    }
    // The welcome messages arrive in the lobby.
    await bob.getByText('Welcome to the chat server!').waitFor();
    await waitWho(bob, ['alice', 'bob', 'carol']);
    await waitWho(alice, ['alice', 'bob', 'carol']);
  });

  await t.test('VIP channels are hidden from non-VIPs', async () => {
    assert.equal(await alice.locator('[data-channel="vip"]').count(), 1);
    assert.equal(await bob.locator('[data-channel="vip"]').count(), 0);
  });

  await t.test('public chat with markdown and unread counters', async () => {
    await post(alice, 'Hello **world** from Alice');
    await bob.locator('.msg-body strong', { hasText: 'world' }).waitFor();
    // A message in another channel raises its unread counter.
    await alice.locator('[data-channel="offtopic"]').click();
    await post(alice, 'Anyone in off topic?');
    await bob.locator('[data-channel="offtopic"] .badge', { hasText: '1' }).waitFor();
    await bob.locator('[data-channel="offtopic"]').click();
    await bob.getByText('Anyone in off topic?').waitFor();
    assert.equal(await bob.locator('[data-channel="offtopic"] .badge').count(), 0);
    await bob.locator('[data-channel="lobby"]').click();
    await alice.locator('[data-channel="lobby"]').click();
  });

  await t.test('reactions, report and take-back', async () => {
    const msg = bob.locator('.msg', { hasText: 'Hello world from Alice' });
    await msg.hover();
    await msg.getByRole('button', { name: 'Add a reaction' }).click();
    await msg.getByRole('button', { name: 'React with 👍' }).click();
    await alice.locator('.msg', { hasText: 'Hello world from Alice' }).locator('.reaction', { hasText: '👍' }).waitFor();

    await msg.hover();
    await msg.getByRole('button', { name: 'Report this message' }).click();
    await bob.getByRole('button', { name: 'Send report' }).click();
    const report = await until('the report webhook', () => hook.received.find((m) => m.Action === 'report'), 10000);
    assert.match(JSON.stringify(report), /alice/);
    await bob.getByText('Your report has been delivered successfully.').waitFor();

    const mine = alice.locator('.msg', { hasText: 'Hello world from Alice' });
    await mine.hover();
    await mine.getByRole('button', { name: 'Take back this message' }).click();
    await bob.locator('.msg', { hasText: 'Hello world from Alice' }).waitFor({ state: 'detached' });
  });

  await t.test('direct messages from the who list, with history after a reload', async () => {
    await bob.locator('.who-row[data-user="alice"] .who-user').click();
    // The profile card shows the host website's details.
    await bob.getByText('Profile of alice').waitFor();
    await bob.getByText('Test city').waitFor();
    await bob.getByRole('link', { name: 'View profile' }).waitFor();
    await bob.getByRole('button', { name: 'Send a message' }).click();
    await post(bob, 'Hi Alice, this is private');
    await alice.locator('[data-channel="@bob"] .badge').waitFor();
    await alice.locator('[data-channel="@bob"]').click();
    await alice.getByText('Hi Alice, this is private').waitFor();
    await post(alice, 'Hi Bob!');
    await bob.getByText('Hi Bob!').waitFor();

    // A fresh page load shows the thread from the server's DM history.
    await bob.reload();
    await bob.locator('#enter-chat').click();
    await until('bob logged in again', () => bob.evaluate(() => window.barertc.loggedIn), 10000);
    await waitWho(bob, ['alice']);
    await bob.locator('.who-row[data-user="alice"] .who-user').click();
    await bob.getByRole('button', { name: 'Send a message' }).click();
    await bob.getByText('Hi Alice, this is private').waitFor();
    await bob.getByText('Hi Bob!').waitFor();
    await bob.locator('[data-channel="lobby"]').click();
  });

  await t.test('sharing a picture with the file picker', async () => {
    const jpeg = await alice.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = 64;
      c.height = 48;
      const g = c.getContext('2d');
      g.fillStyle = '#2563eb';
      g.fillRect(0, 0, 64, 48);
      g.fillStyle = '#fff';
      g.fillRect(16, 12, 32, 24);
      const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.9));
      return [...new Uint8Array(await blob.arrayBuffer())];
    });
    await alice.locator('[data-channel="offtopic"]').click();
    await alice.locator('#image-input').setInputFiles({ name: 'square.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(jpeg) });
    await bob.locator('[data-channel="offtopic"]').click();
    const img = bob.locator('.msg-body img[src^="data:image/jpeg;base64,"]');
    await img.waitFor({ timeout: 10000 });
    // Drag and drop works too (a PNG this time).
    await alice.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = 40;
      c.height = 40;
      c.getContext('2d').fillRect(0, 0, 20, 20);
      const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
      const dt = new DataTransfer();
      dt.items.add(new File([blob], 'dropped.png', { type: 'image/png' }));
      const center = document.querySelector('.center');
      center.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      center.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await bob.locator('.msg-body img[src^="data:image/png;base64,"]').waitFor({ timeout: 10000 });
    // Pasting a picture into the message box shares it as well (a GIF).
    await alice.evaluate(() => {
      const gif = Uint8Array.from(atob('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=='), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([gif], 'pasted.gif', { type: 'image/gif' }));
      const box = document.querySelector('#composer-text');
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    });
    await bob.locator('.msg-body img[src^="data:image/gif;base64,"]').waitFor({ timeout: 10000 });
    // Files over 8 MiB are refused by the page itself.
    await alice.locator('#image-input').setInputFiles({
      name: 'huge.jpg',
      mimeType: 'image/jpeg',
      buffer: Buffer.alloc(8 * 1024 * 1024 + 1),
    });
    await alice.getByText('That picture is too large').waitFor();
    // The lobby does not permit pictures: no picker there.
    await alice.locator('[data-channel="lobby"]').click();
    assert.equal(await alice.locator('#image-input').count(), 0);
    // Clicking the picture opens the lightbox; Escape closes it.
    await img.click();
    await bob.locator('#photo-modal:not([hidden])').waitFor();
    await bob.keyboard.press('Escape');
    await bob.locator('#photo-modal').waitFor({ state: 'hidden' });
  });

  await t.test('a camera is broadcast and really plays for two viewers', async () => {
    await alice.locator('#share-camera').click();
    await alice.locator('#start-camera:not([disabled])').waitFor({ timeout: 10000 });
    const cams = await alice.locator('#camera-select option').count();
    assert.ok(cams >= 1, 'enumerateDevices lists the fake camera');
    await alice.locator('#start-camera').click();
    await alice.locator('.tile-local video').waitFor();

    const bobCam = bob.locator('.who-row[data-user="alice"] .cam-btn');
    await bobCam.waitFor({ timeout: 10000 });
    assert.match(await bobCam.getAttribute('class'), /cam-blue/);
    await bobCam.click();
    await assertVideoPlays(bob, 'alice');

    await carol.locator('#who-toggle').click();
    await carol.locator('.who-row[data-user="alice"] .cam-btn').click();
    await assertVideoPlays(carol, 'alice');

    await until('two watchers', async () => (await alice.locator('#watchers-btn').textContent()).includes('2'), 10000);

    // Bob shares his camera too (with a microphone choice of "none").
    await bob.locator('#share-camera').click();
    await bob.locator('#mic-select').selectOption('none');
    await bob.locator('#start-camera:not([disabled])').click();
    await bob.locator('.tile-local video').waitFor();
    await alice.locator('.who-row[data-user="bob"] .cam-btn').waitFor();
    // Carol (on the phone) watches two cameras at once.
    await carol.locator('.who-row[data-user="bob"] .cam-btn').click();
    await assertVideoPlays(carol, 'bob');
    await assertVideoPlays(carol, 'alice');

    // Screenshots for the README.
    mkdirSync(SHOTS, { recursive: true });
    await bob.locator('[data-channel="lobby"]').click();
    await carol.keyboard.press('Escape'); // close the Who drawer
    await post(alice, 'Good morning everyone! The camera works, say _hi_');
    await post(carol, 'Hi from my phone :)');
    await post(bob, 'Nice camera, **Alice**!');
    await alice.getByText('Nice camera, Alice!').waitFor();
    await carol.getByText('Nice camera, Alice!').waitFor();
    await bob.screenshot({ path: join(SHOTS, 'desktop.png') });
    await carol.screenshot({ path: join(SHOTS, 'phone.png') });

    // Marking the camera Explicit turns its icon red for viewers.
    await alice.getByRole('button', { name: 'Explicit camera' }).click();
    await carol.locator('.who-row[data-user="alice"] .cam-btn.cam-red').waitFor({ state: 'attached' });
    await alice.getByRole('button', { name: 'Explicit camera' }).click();
    await carol.locator('.who-row[data-user="alice"] .cam-btn.cam-blue').waitFor({ state: 'attached' });
  });

  await t.test('each video tile mutes on its own', async () => {
    // (A browser may have started a tile muted if it refused autoplay with sound; the
    // button always tells the truth.)
    const muted = (who) => carol.$eval(`.tile[data-tile="${who}"] video`, (v) => v.muted);
    const toggle = async (who) => {
      const before = await muted(who);
      await carol.getByRole('button', { name: `${before ? 'Unmute' : 'Mute'} ${who}`, exact: true }).click();
      await until(`${who} toggled`, async () => (await muted(who)) === !before, 5000);
      await carol.getByRole('button', { name: `${before ? 'Mute' : 'Unmute'} ${who}`, exact: true }).waitFor();
      return !before;
    };
    const bobBefore = await muted('bob');
    await toggle('alice');
    assert.equal(await muted('bob'), bobBefore, "bob's tile is not affected");
    await toggle('alice');
  });

  await t.test('the phone layout fits 360 px and its drawers work', async () => {
    const width = await carol.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `no horizontal scrolling at 360 px (scrollWidth ${width})`);
    await carol.locator('#channels-toggle').click();
    await carol.locator('[data-channel="offtopic"]').click();
    await carol.getByText('Welcome to the Off Topic channel!').waitFor();
    await post(carol, 'Hello from my phone');
    await bob.locator('[data-channel="offtopic"]').click();
    await bob.getByText('Hello from my phone').waitFor();
  });

  await t.test('booting a viewer closes their video', async () => {
    await alice.locator('.who-row[data-user="bob"] .who-user').click();
    await alice.getByRole('button', { name: 'Boot from my camera' }).click();
    await bob.locator('.tile[data-tile="alice"]').waitFor({ state: 'detached', timeout: 10000 });
    // Carol still watches.
    await assertVideoPlays(carol, 'alice');
  });

  await t.test('blocking closes the video both ways and hides each other', async () => {
    await alice.locator('.who-row[data-user="carol"] .who-user').click();
    await alice.getByRole('button', { name: 'Block' }).click();
    await carol.locator('.tile[data-tile="alice"]').waitFor({ state: 'detached', timeout: 10000 });
    await carol.locator('.who-row[data-user="alice"]').waitFor({ state: 'detached', timeout: 10000 });
    await until('no watchers left', async () => (await alice.locator('#watchers-btn').textContent()).includes('0'), 10000);
    await alice.locator('#stop-camera').click();
  });

  await t.test('a VIP-only camera is invisible to non-VIPs', async () => {
    // Let Bob back on first, and check that he sees an ordinary camera again.
    await alice.locator('.who-row[data-user="bob"] .who-user').click();
    await alice.getByRole('button', { name: 'Allow back on my camera' }).click();
    await alice.locator('#share-camera').click();
    await alice.locator('#start-camera:not([disabled])').click();
    await bob.locator('.who-row[data-user="alice"] .cam-btn').waitFor();
    await alice.locator('#stop-camera').click();
    await bob.locator('.who-row[data-user="alice"] .cam-btn').waitFor({ state: 'detached' });

    await alice.locator('#share-camera').click();
    await alice.getByLabel('VIP only').check();
    await alice.locator('#start-camera:not([disabled])').click();
    const vipFlags = 1 | 64;
    await until(
      'alice broadcasting VIP-only',
      () => alice.evaluate((f) => (window.barertc.whoMap.get('alice')?.video & f) === f, vipFlags),
      10000,
    );
    await until('bob got the same Who list', () => bob.evaluate(() => window.barertc.whoMap.get('alice')?.video === 0), 5000);
    assert.equal(await bob.locator('.who-row[data-user="alice"] .cam-btn').count(), 0);
    // Boot Bob again (the restart test below expects the boot to be re-sent).
    await alice.locator('.who-row[data-user="bob"] .who-user').click();
    await alice.getByRole('button', { name: 'Boot from my camera' }).click();
    await alice.locator('#stop-camera').click();
  });

  await t.test('settings are remembered (theme)', async () => {
    // Keyboard only: open the dialog with Enter, Escape closes it and focus comes back.
    await bob.locator('#settings-btn').focus();
    await bob.keyboard.press('Enter');
    await bob.locator('dialog.modal[open]').waitFor();
    await bob.locator('#theme-select').selectOption('dark');
    await bob.keyboard.press('Escape');
    await bob.locator('dialog.modal').waitFor({ state: 'detached' });
    assert.equal(await bob.evaluate(() => document.activeElement?.id), 'settings-btn');
    assert.equal(await bob.evaluate(() => document.documentElement.dataset.theme), 'dark');
    assert.match(await bob.evaluate(() => localStorage.getItem('barertc.prefs')), /"theme":"dark"/);
  });

  await t.test('a guest types a nickname; an operator kicks them and they stay out', async () => {
    const dave = await openUser('dave', null);
    const oscar = await openUser('oscar', { op: true });
    await until('dave logged in', () => dave.evaluate(() => window.barertc.loggedIn), 10000);
    assert.equal(await oscar.locator('[data-channel="vip"]').count(), 1, 'operators see VIP channels');
    await oscar.locator('.who-row[data-user="dave"] .who-user').click();
    await oscar.getByRole('button', { name: 'Kick' }).click();
    await dave.locator('#conn-banner', { hasText: 'disconnected' }).waitFor();
    await oscar.getByText('dave has been kicked from the room', { exact: true }).waitFor();
    // `disconnect` stops the reconnect loop for good.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await dave.evaluate(() => window.barertc.conn), 'stopped');
    await pages.dave.context.close();

    // An operator watching Bob leaves: Bob's watcher count drops.
    await oscar.locator('.who-row[data-user="bob"] .cam-btn').click();
    await assertVideoPlays(oscar, 'bob');
    await until('two watch bob', async () => (await bob.locator('#watchers-btn').textContent()).includes('2'), 10000);
    await pages.oscar.context.close();
    await until('one watches bob', async () => (await bob.locator('#watchers-btn').textContent()).includes('1'), 10000);
  });

  await t.test('a camera that stops closes for its viewers', async () => {
    await alice.locator('.who-row[data-user="bob"] .cam-btn').click();
    await assertVideoPlays(alice, 'bob');
    await bob.locator('#stop-camera').click();
    await alice.locator('.tile[data-tile="bob"]').waitFor({ state: 'detached', timeout: 10000 });
    await carol.locator('.tile[data-tile="bob"]').waitFor({ state: 'detached', timeout: 10000 });
  });

  await t.test('a server restart shows the banner, then the page reconnects', async () => {
    const restartAt = Date.now();
    allowConnectionErrors = true;
    await server.kill('SIGKILL');
    await bob.locator('#conn-banner', { hasText: 'Connection lost' }).waitFor({ timeout: 10000 });
    await server.start(server.port);
    await bob.locator('#conn-banner').waitFor({ state: 'detached', timeout: 25000 });
    await until('bob logged in after restart', () => bob.evaluate(() => window.barertc.loggedIn), 10000);
    allowConnectionErrors = false;
    await bob.locator('[data-channel="lobby"]').click();
    await post(bob, 'Back after the restart');
    await bob.locator('.msg', { hasText: 'Back after the restart' }).waitFor();
    await alice.getByText('Back after the restart').waitFor({ timeout: 15000 });
    // On the new connection alice re-sent her block list before logging in (protocol.md §7).
    const sent = pages.alice.frames.filter((f) => f.sent && f.at > restartAt).map((f) => JSON.parse(f.data));
    const login = sent.findIndex((m) => m.action === 'login');
    const blocklist = sent.findIndex((m) => m.action === 'blocklist' && m.usernames.includes('carol'));
    const boot = sent.findIndex((m) => m.action === 'boot' && m.username === 'bob');
    assert.ok(login > 0, 'alice logged in again');
    assert.ok(blocklist >= 0 && blocklist < login, 'blocklist before login');
    assert.ok(boot >= 0 && boot < login, 'boot before login');
    // Once the Who lists resume (16 s after the restart), the block still holds.
    const who = await until(
      'a Who list after the restart',
      () =>
        pages.alice.frames
          .filter((f) => !f.sent && f.at > restartAt)
          .map((f) => JSON.parse(f.data))
          .find((m) => m.action === 'who'),
      WHO_WAIT,
    );
    const names = (who.whoList || []).map((w) => w.username);
    assert.ok(names.includes('bob') && !names.includes('carol'), `who after restart: ${names}`);
    await waitWho(alice, ['alice', 'bob']);
    assert.equal(await alice.locator('.who-row[data-user="carol"]').count(), 0);
  });

  await t.test('no console errors on any page', async () => {
    const errors = Object.values(pages).flatMap((p) => p.errors);
    assert.deepEqual(errors, []);
  });
});
