// wallet.js - the in-page wallet the recorder injects before the page (like an extension's
// EIP-1193 provider): eth_accounts / eth_requestAccounts / eth_chainId / net_version are
// answered locally (as MetaMask does); everything else is sent as JSON-RPC to the node (a test
// node with an unlocked account receives eth_sendTransaction and eth_signTypedData_v4 itself):
// over fetch (POST) when rpcUrl is http(s)://, over one WebSocket when it is ws(s):// (as
// WebSocket RPC endpoints are used; the browser offers permessage-deflate).
// Every request it forwards is logged in window.__walletLog (method + params as sent), which
// the recorder turns into the expected alerts.
// Called by playwright's addInitScript with { rpcUrl, account, chainId, delayMs }.
(cfg) => {
  let id = 0;
  window.__walletLog = [];
  let sock = null;
  const pending = new Map();
  function wsSocket() {
    if (sock) return sock;
    sock = new Promise((resolve, reject) => {
      const ws = new WebSocket(cfg.rpcUrl);
      ws.onopen = () => resolve(ws);
      ws.onerror = () => reject(new Error(`WebSocket ${cfg.rpcUrl} failed`));
      ws.onmessage = (ev) => {
        const j = JSON.parse(ev.data);
        const p = pending.get(j.id);
        if (p) { pending.delete(j.id); p(j); }
      };
    });
    return sock;
  }
  async function send(body, rid) {
    // cfg.delayMs: pause before each call (the dapp-early node must close its window first).
    if (cfg.delayMs) await new Promise((r) => setTimeout(r, cfg.delayMs));
    if (/^wss?:/.test(cfg.rpcUrl)) {
      const ws = await wsSocket();
      return new Promise((resolve) => { pending.set(rid, resolve); ws.send(body); });
    }
    const r = await window.fetch(cfg.rpcUrl, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return r.json();
  }
  const provider = {
    isWalletwatchTestWallet: true,
    async request({ method, params }) {
      params = params || [];
      switch (method) {
        case 'eth_accounts':
        case 'eth_requestAccounts': return [cfg.account];
        case 'eth_chainId': return '0x' + cfg.chainId.toString(16);
        case 'net_version': return String(cfg.chainId);
      }
      const rid = ++id;
      const body = JSON.stringify({ jsonrpc: '2.0', id: rid, method, params });
      window.__walletLog.push({ method, params: JSON.parse(JSON.stringify(params)) });
      const j = await send(body, rid);
      if (j.error) throw Object.assign(new Error(j.error.message), { code: j.error.code });
      return j.result;
    },
    on() {}, removeListener() {},
  };
  window.ethereum = provider;
}
