// Browser-test harness: runs the real `barertc` binary in a temporary folder (with `dist`
// pointing at the built front-end), a tiny webhook receiver, and headless Chromium through
// playwright-core.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, symlinkSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const API_KEY = 'browser-admin-key-0123456789';
export const SECRET = 'browser-jwt-secret-do-not-use';

export function binaryPath() {
  const fromEnv = process.env.BARERTC_BINARY;
  const bin = resolve(fromEnv || join(repoRoot, 'build-ci', 'barertc'));
  if (!existsSync(bin)) throw new Error(`server binary not found: ${bin} (set BARERTC_BINARY)`);
  return bin;
}

export function distDir() {
  const dist = resolve(process.env.BARERTC_WEB_DIST || join(repoRoot, 'web', 'dist'));
  if (!existsSync(join(dist, 'static', 'app.js'))) {
    throw new Error(`front-end not built: ${dist}/static/app.js missing (run npm run build in web/)`);
  }
  return dist;
}

export async function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export function settingsToml({ reportURL }) {
  return `Version = 17
Title = "BareRTC browser test"
Branding = "BareRTC"
WebsiteURL = "https://www.example.com"
CORSHosts = ["https://www.example.com"]
AdminAPIKey = "${API_KEY}"
PermitNSFW = true
BlockableAdmins = false
UseXForwardedFor = false
WebSocketReadLimit = 41943040
WebSocketSendTimeout = 10
MaxImageWidth = 1280
PreviewImageWidth = 360

[JWT]
Enabled = true
Strict = false
SecretKey = "${SECRET}"
LandingPageURL = ""

[TURN]
URLs = []
Username = ""
Credential = ""

[[PublicChannels]]
ID = "lobby"
Name = "Lobby"
VIP = false
PermitPhotos = false
WelcomeMessages = ["Welcome to the chat server!", "Please follow the basic rules:\\n\\n1. Have fun\\n2. Be kind"]
EchoMessagesOnJoin = 10

[[PublicChannels]]
ID = "offtopic"
Name = "Off Topic"
VIP = false
PermitPhotos = true
WelcomeMessages = ["Welcome to the Off Topic channel!"]
EchoMessagesOnJoin = 0

[[PublicChannels]]
ID = "vip"
Name = "VIPs Only"
VIP = true
PermitPhotos = true
WelcomeMessages = ["This channel is only for operators and VIPs."]
EchoMessagesOnJoin = 0

[[WebhookURLs]]
Name = "report"
Enabled = true
URL = "${reportURL}"

[[WebhookURLs]]
Name = "profile"
Enabled = true
URL = "${reportURL}"

[VIP]
Name = "VIP"
Branding = "<em>VIP Members</em>"
Icon = "fa fa-circle"
MutuallySecret = false

[DirectMessageHistory]
Enabled = true
SQLiteDatabase = "database.sqlite"
RetentionDays = 90
DisclaimerMessage = "Reminder: please conduct yourself honorably in Direct Messages."

[DMLinkSpamProtection]
Enabled = true
MaxThreads = 5
TimeLimit = 3600
BanHours = 24

[Logging]
Enabled = false
Directory = "./logs"
Channels = ["lobby", "offtopic"]
Usernames = []
`;
}

// One server process on a fixed port in a folder that survives restarts.
export class ChatServer {
  constructor({ reportURL }) {
    this.dir = mkdtempSync(join(tmpdir(), 'barertc-browser-'));
    writeFileSync(join(this.dir, 'settings.toml'), settingsToml({ reportURL }));
    symlinkSync(distDir(), join(this.dir, 'dist'));
    this.log = '';
    this.proc = null;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port) {
    this.port = port ?? this.port ?? (await freePort());
    const proc = spawn(binaryPath(), ['--address', `127.0.0.1:${this.port}`], {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.startedAt = Date.now();
    await new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error('server did not start in 10 s:\n' + this.log)), 10000);
      const onData = (d) => {
        this.log += d.toString();
        if (this.log.includes('Listening on port')) {
          clearTimeout(timer);
          res();
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      proc.on('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`server exited early (${code}):\n${this.log}`));
      });
    });
  }

  async kill(signal = 'SIGKILL') {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const done = new Promise((res) => proc.once('exit', res));
    proc.kill(signal);
    await Promise.race([done, new Promise((r) => setTimeout(r, 10000))]);
    this.proc = null;
  }

  async stop() {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }

  async authenticate(claims) {
    const res = await fetch(`${this.url}/api/authenticate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ APIKey: API_KEY, Claims: claims }),
    });
    const body = await res.json();
    if (!body.OK) throw new Error('authenticate failed: ' + JSON.stringify(body));
    return body.JWT;
  }
}

// Collects what the report and profile webhooks receive; answers profile requests.
export async function webhookReceiver() {
  const received = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      let msg = body;
      try {
        msg = JSON.parse(body);
      } catch {
        // keep the raw text
      }
      received.push(msg);
      res.setHeader('Content-Type', 'application/json');
      if (msg?.Action === 'profile') {
        // The host website's profile card data (api.md §11).
        res.end(
          JSON.stringify({
            StatusCode: 200,
            Data: {
              OK: true,
              Headline: `Profile of ${msg.Username}`,
              ProfileFields: [{ Name: 'Location', Value: 'Test city' }],
            },
          }),
        );
        return;
      }
      res.end('{"OK":true}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/report`,
    received,
    close: () => new Promise((r) => server.close(r)),
  };
}

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-background-networking',
];

// Waits until `f()` returns a truthy value (polling), or throws after `ms`.
export async function until(what, f, ms = 10000, every = 100) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await f();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, every));
  }
}
