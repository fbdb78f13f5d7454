// drive.mjs - runs one dapp session in Debian's Chromium (headless) with playwright-core.
//   node drive.mjs --url URL --rpc-url URL --keylog FILE --out FILE.json [--hijack]
// Injects the wallet (dapp/wallet.js) and, with --hijack, the hijack fixture (dapp/hijack.js,
// with the attacker pools of addrdb/bundled.csv per address kind) before the page's scripts, opens the
// page, waits for the dapp to finish and writes what the page did (wallet requests as sent,
// substitutions made) to --out. Chromium gets SSLKEYLOGFILE in its environment.
// --quic HOST:PORT: QUIC on (no --disable-quic), HTTP/3 forced for that origin
// (--origin-to-force-quic-on; Chromium also accepts an unknown-root certificate over QUIC only
// for the hosts named there). --alt-svc: QUIC on (the server's Alt-Svc decides).
// --map HOST: HOST resolves to 127.0.0.1 (--host-resolver-rules); --spki HASH: the server key's
// SHA-256 SPKI hash is trusted (--ignore-certificate-errors-spki-list; QUIC honours it).
// --wallet-delay MS: the wallet waits MS before each JSON-RPC request.
// --warm URL: load URL first, wait 1.5 s (an Alt-Svc answer is remembered), then the dapp.
// The protocol of every response (h2, h3, http/1.1) goes to the log's "protocols".
// Never downloads a browser: executablePath is /usr/bin/chromium (CHROMIUM to override).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ATTACKER, WALLET, CHAIN_ID } from './fixtures.mjs';
import { pools } from './expect.mjs';

const opt = { url: '', rpcUrl: '', keylog: '', out: '', hijack: false, quic: '', altSvc: false, warm: '', map: '', spki: '', walletDelay: '0' };
const FLAGS = new Set(['hijack', 'altSvc']);
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
  if (!(k in opt)) { console.error(`drive: unknown argument ${argv[i]}`); process.exit(2); }
  opt[k] = FLAGS.has(k) ? true : argv[++i];
}
const here = path.dirname(new URL(import.meta.url).pathname);
const call = (file, arg) => `(${fs.readFileSync(path.join(here, 'dapp', file), 'utf8')})(${JSON.stringify(arg)});`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ww-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  chromiumSandbox: false,
  ignoreHTTPSErrors: true,
  env: { ...process.env, SSLKEYLOGFILE: opt.keylog },
  args: ['--no-sandbox', '--disable-gpu', ...(opt.quic || opt.altSvc ? ['--enable-quic'] : ['--disable-quic']),
         ...(opt.quic ? [`--origin-to-force-quic-on=${opt.quic}`] : []),
         ...(opt.map ? [`--host-resolver-rules=MAP ${opt.map} 127.0.0.1`] : []),
         ...(opt.spki ? [`--ignore-certificate-errors-spki-list=${opt.spki}`] : []),
         ...(process.env.NETLOG ? [`--log-net-log=${process.env.NETLOG}`] : []), '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--ignore-certificate-errors', '--disable-features=AsyncDns,MediaRouter',
         `--ssl-key-log-file=${opt.keylog}`],
});
let result;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.addInitScript(call('wallet.js', { rpcUrl: opt.rpcUrl, account: WALLET, chainId: CHAIN_ID,
                                                   delayMs: Number(opt.walletDelay) }));
  if (opt.hijack)
    await page.addInitScript(call('hijack.js', { pools: pools(), attacker: ATTACKER }));
  const protocols = [];
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.responseReceived', (e) => protocols.push(`${e.response.protocol} ${new URL(e.response.url).pathname}`));
  if (opt.warm) {
    await page.goto(opt.warm, { waitUntil: 'load' });
    await page.waitForTimeout(1500);
  }
  await page.goto(opt.url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__dapp !== undefined, null, { timeout: 20000 });
  const r = await page.evaluate(() => ({ dapp: window.__dapp, wallet: window.__walletLog,
                                         hijack: window.__hijackLog || [] }));
  await page.waitForTimeout(300);
  result = { url: opt.url, hijack: opt.hijack, ...r, protocols, console: consoleLines };
} finally {
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
fs.writeFileSync(opt.out, JSON.stringify(result, null, 1) + '\n');
if (!result.dapp.ok) { console.error(`drive: the dapp failed: ${result.dapp.error}`); process.exit(1); }
