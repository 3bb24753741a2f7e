// Tastemaker's wallet glue: an EIP-1193 wallet found by EIP-6963 (or `window.ethereum`,
// or a clearly marked DEV wallet on the embedded chain) to sign in, sign votes and send
// bids and claims, on this site's chain.
"use strict";

const TM = window.TM || {};
const $ = (id) => document.getElementById(id);

function say(text, isError) {
  const status = $("status");
  if (!status) return;
  status.textContent = text || "";
  status.className = isError ? "error" : "";
}

async function api(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.detail || `${response.status} ${response.statusText}`);
    error.code = data.code;
    throw error;
  }
  return data;
}

// A DEV wallet answers EIP-1193 requests with the embedded chain's public test keys.
function devProvider(index) {
  return {
    isTastemakerDev: true,
    request: async ({ method, params }) => {
      const answer = await api(`/api/dev/wallets/${index}/rpc`, { method, params: params || [] });
      if (answer.error) throw Object.assign(new Error(answer.error.message), answer.error);
      return answer.result;
    },
  };
}

// ---------------------------------------------------------------- wallet discovery
// EIP-6963: every injected wallet announces itself ({info: {uuid, name, icon, rdns},
// provider}) when the page asks; the member picks one, remembered by its rdns (stable
// across page loads, unlike the uuid). No announcement: the legacy `window.ethereum`.

const announced = new Map(); // rdns (or uuid) -> {info, provider}

function discoverWallets() {
  window.addEventListener("eip6963:announceProvider", (event) => {
    const { info, provider } = event.detail || {};
    if (!info || !provider || typeof provider.request !== "function") return;
    announced.set(info.rdns || info.uuid, { info, provider });
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
}

function chooseWallet(choices) {
  // A small modal list of the announced wallets; resolves with the chosen one.
  return new Promise((resolve, reject) => {
    const dialog = document.createElement("dialog");
    dialog.id = "wallet-chooser";
    const title = document.createElement("p");
    title.textContent = "Choose a wallet";
    dialog.append(title);
    for (const choice of choices) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "wallet-choice";
      button.dataset.rdns = choice.info.rdns || choice.info.uuid;
      if (choice.info.icon && choice.info.icon.startsWith("data:image/")) {
        const icon = document.createElement("img");
        icon.src = choice.info.icon; icon.alt = ""; icon.width = 24; icon.height = 24;
        button.append(icon);
      }
      button.append(document.createTextNode(choice.info.name || choice.info.rdns));
      button.addEventListener("click", () => { dialog.close(); dialog.remove(); resolve(choice); });
      dialog.append(button);
    }
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", () => {
      dialog.close(); dialog.remove();
      reject(new Error("no wallet chosen"));
    });
    dialog.append(cancel);
    document.body.append(dialog);
    dialog.showModal();
  });
}

// The wallet to use: the DEV wallet picked above, the remembered EIP-6963 wallet,
// the only one announced, the one the member chooses, or `window.ethereum`.
async function provider(ask) {
  const dev = TM.devChain && localStorage.getItem("tm_dev_wallet");
  if (dev) return devProvider(dev);
  const remembered = announced.get(localStorage.getItem("tm_wallet"));
  if (remembered && !ask) return remembered.provider;
  const choices = [...announced.values()];
  if (choices.length === 1) return remember(choices[0]);
  if (choices.length > 1) return remember(await chooseWallet(choices));
  if (window.ethereum) return window.ethereum;
  throw new Error(
    TM.devChain ? "No browser wallet: pick a DEV wallet above." : "No browser wallet found."
  );
}

function remember(choice) {
  localStorage.setItem("tm_wallet", choice.info.rdns || choice.info.uuid);
  return choice.provider;
}

const hexChain = () => "0x" + Number(TM.chainId).toString(16);

// Ask the wallet onto this site's chain: switch, or add it first when the wallet does
// not know it (error 4902, EIP-3085/EIP-3326).
async function onChain(wallet) {
  if (wallet.isTastemakerDev) return;
  const current = await wallet.request({ method: "eth_chainId" });
  if (Number(current) === Number(TM.chainId)) return;
  say(`Switch your wallet to chain ${TM.chainId}…`);
  try {
    await wallet.request({ method: "wallet_switchEthereumChain", params: [{ chainId: hexChain() }] });
  } catch (error) {
    if (error.code !== 4902 && error.data?.originalError?.code !== 4902) throw error;
    if (!TM.rpcUrl) throw new Error(`your wallet does not know chain ${TM.chainId}; add it by hand`);
    await wallet.request({
      method: "wallet_addEthereumChain",
      params: [{
        chainId: hexChain(),
        chainName: TM.chainName,
        rpcUrls: [TM.rpcUrl],
        nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      }],
    });
  }
  const now = await wallet.request({ method: "eth_chainId" });
  if (Number(now) !== Number(TM.chainId)) throw new Error(`the wallet is still on chain ${Number(now)}`);
}

// A wallet on this site's chain, ready to sign or send.
async function ready() {
  const wallet = await provider(false);
  await onChain(wallet);
  return wallet;
}

function utf8Hex(text) {
  return "0x" + Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function signIn() {
  try {
    const wallet = await provider(true);
    const [address] = await wallet.request({ method: "eth_requestAccounts" });
    await onChain(wallet);
    const { message } = await api("/api/auth/message", { address });
    say("Sign the message in your wallet…");
    const signature = await wallet.request({ method: "personal_sign", params: [utf8Hex(message), address] });
    await api("/api/auth/verify", { message, signature });
    location.reload();
  } catch (error) {
    say(`Sign-in failed: ${error.message}`, true);
  }
}

async function signOut() {
  await api("/api/auth/logout", {});
  location.reload();
}

async function send(tx) {
  const wallet = await ready();
  say("Confirm the transaction in your wallet…");
  return wallet.request({ method: "eth_sendTransaction", params: [tx] });
}

// ---------------------------------------------------------------- countdowns

function formatSeconds(total) {
  if (total <= 0) return "now";
  const d = Math.floor(total / 86400), h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60), s = Math.floor(total % 60);
  return (d ? `${d}d ` : "") + `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

function startCountdowns() {
  const started = Date.now();
  const tick = () => {
    for (const el of document.querySelectorAll(".countdown")) {
      const left = Number(el.dataset.seconds) - (Date.now() - started) / 1000;
      el.textContent = formatSeconds(Math.max(0, Math.round(left)));
    }
  };
  tick();
  setInterval(tick, 1000);
}

// ---------------------------------------------------------------- voting

const voting = { round: null, work: null, busy: false };

function showNext(data) {
  $("seen").textContent = data.seen;
  $("pool-size").textContent = data.pool_size;
  $("voted").textContent = data.voted;
  $("remaining").textContent = tokens(data.remaining);
  $("vp").textContent = tokens(data.vp);
  $("progress").max = Math.max(data.pool_size, 1);
  $("progress").value = data.seen;
  const amount = $("amount");
  const remaining = Number(tokens(data.remaining));
  if (Number(amount.value) > remaining && remaining > 0) amount.value = remaining;
  voting.work = data.work;
  const image = $("work");
  const text = $("work-text");
  const isText = Boolean(data.work && (data.work.media_type || "").startsWith("text/"));
  image.hidden = !data.work || isText;
  text.hidden = !isText;
  $("done").hidden = Boolean(data.work);
  if (data.work && isText) {
    // Set as text, never as markup: textContent escapes whatever the work says.
    text.textContent = "…";
    text.dataset.work = data.work.content_hash;
    showText(text, data.work);
  } else if (data.work) {
    image.src = data.work.image_url;
    image.dataset.work = data.work.content_hash;
  }
  $("your-vote").textContent = data.your_vote
    ? `Your vote on this work: ${data.your_vote.direction > 0 ? "up" : "down"} ${tokens(data.your_vote.amount)} VP`
    : "";
}

async function showText(element, work) {
  const response = await fetch(work.media_url);
  if (element.dataset.work !== work.content_hash) return; // the member moved on
  element.textContent = response.ok ? await response.text() : "(this text could not be loaded)";
  element.dataset.mediaType = work.media_type;
}

async function loadNext() {
  showNext(await api(`/api/rounds/${voting.round}/next`, {}));
}

async function vote(direction) {
  if (voting.busy || !voting.work) return;
  voting.busy = true;
  try {
    const amount = $("amount").value.trim();
    const prepared = await api("/api/votes/prepare", {
      round: voting.round, work: voting.work.content_hash, direction, amount: toWei(amount),
    });
    say("Sign the vote in your wallet…");
    const wallet = await ready();
    const signature = await wallet.request({
      method: "eth_signTypedData_v4",
      params: [TM.member, JSON.stringify(prepared.typed_data)],
    });
    const receipt = await api("/api/votes", { message: prepared.message, signature });
    say(`Vote ${receipt.status}: ${direction > 0 ? "up" : "down"} ${amount} VP · ${tokens(receipt.remaining)} VP left`);
    await loadNext();
  } catch (error) {
    say(`Vote refused: ${error.message}`, true);
  } finally {
    voting.busy = false;
  }
}

function setUpVoting() {
  const section = $("voter");
  if (!section) return;
  voting.round = Number(section.dataset.round);
  $("vote-up").addEventListener("click", () => vote(1));
  $("vote-down").addEventListener("click", () => vote(-1));
  $("skip").addEventListener("click", () => loadNext().catch((e) => say(e.message, true)));
  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement && !["ArrowUp", "ArrowDown"].includes(event.key)) return;
    const amount = $("amount");
    const keys = {
      ArrowUp: () => vote(1), k: () => vote(1),
      ArrowDown: () => vote(-1), j: () => vote(-1),
      ArrowRight: () => loadNext(), s: () => loadNext(),
      "+": () => { amount.value = Number(amount.value) + 1; },
      "-": () => { amount.value = Math.max(1, Number(amount.value) - 1); },
      "=": () => { amount.value = Number(amount.value) + 1; },
    };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });
  loadNext().catch((error) => say(error.message, true));
}

// Amounts travel as decimal strings of 18-decimal base units (VP and wei alike).
function tokens(baseUnits) {
  const value = BigInt(baseUnits);
  const whole = value / 10n ** 18n, fraction = value % 10n ** 18n;
  const decimals = fraction.toString().padStart(18, "0").replace(/0+$/, "").slice(0, 4);
  return decimals ? `${whole}.${decimals}` : `${whole}`;
}

function toWei(text) {
  const [whole, fraction = ""] = text.trim().split(".");
  if (!/^\d*$/.test(whole) || !/^\d*$/.test(fraction) || fraction.length > 18) throw new Error("not an ETH amount");
  return (BigInt(whole || "0") * 10n ** 18n + BigInt((fraction + "0".repeat(18)).slice(0, 18))).toString();
}

async function bid() {
  try {
    const token = $("live-auction").dataset.token;
    const { tx } = await api(`/api/auctions/${token}/bid-tx`, { amount: toWei($("bid-amount").value) });
    const hash = await send(tx);
    say(`Bid sent (${hash}).`);
    setTimeout(() => location.reload(), 500);
  } catch (error) {
    say(`Bid failed: ${error.message}`, true);
  }
}

async function claim() {
  try {
    const { tx } = await api("/api/rewards/claim-tx", {});
    const hash = await send(tx);
    say(`Claimed (${hash}).`);
    setTimeout(() => location.reload(), 500);
  } catch (error) {
    say(`Claim failed: ${error.message}`, true);
  }
}

// ---------------------------------------------------------------- start

function start() {
  discoverWallets();
  const devSelect = $("dev-wallet");
  if (devSelect) {
    devSelect.value = localStorage.getItem("tm_dev_wallet") || "";
    devSelect.addEventListener("change", () => {
      if (devSelect.value) localStorage.setItem("tm_dev_wallet", devSelect.value);
      else localStorage.removeItem("tm_dev_wallet");
    });
  }
  $("sign-in")?.addEventListener("click", signIn);
  $("sign-out")?.addEventListener("click", signOut);
  $("bid")?.addEventListener("click", bid);
  $("claim")?.addEventListener("click", claim);
  startCountdowns();
  setUpVoting();
}

start();
