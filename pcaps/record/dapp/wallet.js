// wallet.js - the in-page wallet the recorder injects before the page (like an extension's
// EIP-1193 provider): eth_accounts / eth_requestAccounts / eth_chainId / net_version are
// answered locally (as MetaMask does); everything else is sent as JSON-RPC over fetch to the
// node (a test node with an unlocked account receives eth_sendTransaction itself).
// Every request it forwards is logged in window.__walletLog (method + params as sent), which
// the recorder turns into the expected alerts.
// Called by playwright's addInitScript with { rpcUrl, account, chainId }.
(cfg) => {
  let id = 0;
  window.__walletLog = [];
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
      const body = JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params });
      window.__walletLog.push({ method, params: JSON.parse(JSON.stringify(params)) });
      const r = await window.fetch(cfg.rpcUrl, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const j = await r.json();
      if (j.error) throw Object.assign(new Error(j.error.message), { code: j.error.code });
      return j.result;
    },
    on() {}, removeListener() {},
  };
  window.ethereum = provider;
}
