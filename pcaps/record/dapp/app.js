// app.js - the local test dapp: a checkout that pays an invoice three ways with ethers v6.
// 1. ETH payment: a type-2 transaction signed in the page with ethers.Wallet (a fixed test key
//    derived from a public string; never funded) and sent as eth_sendRawTransaction.
// 2. ERC-20 payment: transfer(payee, amount) via eth_sendTransaction (BrowserProvider signer).
// 3. ERC-20 allowance for the payment router: approve(router, amount) via eth_sendTransaction.
// Payee and router come from GET /api/invoice; the token contract is part of this code.
// The invoice also lists alternative payment addresses (Bitcoin, Tron, Solana): the page shows
// them and, once paid, posts the order with them to POST /api/order, whose HTML receipt
// echoes them (so what the page was shown goes back over the wire).
// ?flow=permit2 instead: one Permit2 PermitSingle signature request (eth_signTypedData_v4,
// Uniswap's Permit2 domain and types, via ethers' signer.signTypedData) granting the router
// an allowance of the token.
// ?flow=sse: the same payment flow, but the invoice arrives as an "invoice" event of an
// EventSource on /api/stream (text/event-stream) that stays open until the order is posted.
// window.ethereum is the wallet (the recorder injects it, like an extension would).
// When done, window.__dapp = { ok, results | error } for the recorder.
'use strict';
(function () {
  const { ethers } = window;
  const TOKEN = '0xC4425144d6A00e515Fef646a8Cabe37A853569ce';
  const PERMIT2 = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
  const PERMIT_SINGLE = {
    PermitDetails: [
      { name: 'token', type: 'address' }, { name: 'amount', type: 'uint160' },
      { name: 'expiration', type: 'uint48' }, { name: 'nonce', type: 'uint48' },
    ],
    PermitSingle: [
      { name: 'details', type: 'PermitDetails' }, { name: 'spender', type: 'address' },
      { name: 'sigDeadline', type: 'uint256' },
    ],
  };
  const flow = new URLSearchParams(location.search).get('flow') || 'pay';
  const ERC20 = new ethers.Interface([
    'function transfer(address to, uint256 amount) returns (bool)',
    'function approve(address spender, uint256 amount) returns (bool)',
  ]);
  const log = (s) => { document.getElementById('log').textContent += s + '\n'; };

  function xhrJson(url) {
    return new Promise((resolve, reject) => {
      const x = new XMLHttpRequest();
      x.open('GET', url);
      x.onload = () => { try { resolve(JSON.parse(x.responseText)); } catch (e) { reject(e); } };
      x.onerror = () => reject(new Error(`XHR ${url} failed`));
      x.send();
    });
  }

  async function main() {
    const cfg = await xhrJson('/api/config');
    let es = null, inv;
    if (flow === 'sse') {
      es = new EventSource('/api/stream');
      inv = await new Promise((resolve, reject) => {
        es.addEventListener('invoice', (e) => resolve(JSON.parse(e.data)));
        es.onerror = () => reject(new Error('EventSource /api/stream failed'));
      });
    } else inv = await (await fetch('/api/invoice', { cache: 'no-store' })).json();
    log(`invoice ${inv.invoice}: pay ${inv.payee}`);
    for (const [k, v] of Object.entries(inv.pay_alt || {})) log(`  or pay with ${k}: ${v}`);
    const provider = new ethers.BrowserProvider(window.ethereum, Number(cfg.chain_id));
    const signer = await provider.getSigner();
    const results = [];

    if (flow === 'permit2') {
      // A fixed deadline keeps re-recordings identical (the node does not check it).
      const value = {
        details: { token: TOKEN, amount: BigInt(inv.approve_amount), expiration: 1767225600, nonce: 0 },
        spender: inv.router, sigDeadline: 1767225600n,
      };
      const domain = { name: 'Permit2', chainId: Number(cfg.chain_id), verifyingContract: PERMIT2 };
      results.push(await signer.signTypedData(domain, PERMIT_SINGLE, value));
      log(`signed: ${results[0]}`);
      return results;
    }

    // 1. ETH, signed in page, eth_sendRawTransaction.
    const wallet = new ethers.Wallet(ethers.id('walletwatch recorder wallet 0'));
    const raw = await wallet.signTransaction({
      type: 2, chainId: Number(cfg.chain_id), nonce: 0, to: inv.payee,
      value: BigInt(inv.amount_wei), gasLimit: 21000n,
      maxFeePerGas: ethers.parseUnits('30', 'gwei'), maxPriorityFeePerGas: ethers.parseUnits('1', 'gwei'),
    });
    results.push(await window.ethereum.request({ method: 'eth_sendRawTransaction', params: [raw] }));

    // 2. ERC-20 transfer, eth_sendTransaction.
    results.push(await signer.sendUncheckedTransaction({
      to: TOKEN, gasLimit: 65000n,
      data: ERC20.encodeFunctionData('transfer', [inv.payee, BigInt(inv.token_amount)]),
    }));

    // 3. ERC-20 approve for the router, eth_sendTransaction.
    results.push(await signer.sendUncheckedTransaction({
      to: TOKEN, gasLimit: 65000n,
      data: ERC20.encodeFunctionData('approve', [inv.router, BigInt(inv.approve_amount)]),
    }));
    log(`sent: ${results.join(' ')}`);
    if (es) window.__dappSseOpen = es.readyState === EventSource.OPEN;

    // 4. The order, with the other payment addresses the customer was shown.
    const r = await fetch('/api/order', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ invoice: inv.invoice, paid: results, pay_alt: inv.pay_alt }) });
    log(`order: ${r.status}`);
    window.__dappOrder = inv.pay_alt;
    if (es) es.close();
    return results;
  }

  main().then(
    (results) => { document.getElementById('status').textContent = 'paid'; window.__dapp = { ok: true, results, order: window.__dappOrder, sse_open: window.__dappSseOpen }; },
    (e) => { document.getElementById('status').textContent = 'failed'; window.__dapp = { ok: false, error: String(e && e.stack || e) }; });
})();
