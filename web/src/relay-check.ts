// Relay self-check: every RelayClient call against a real devnet relay, each
// answer checked. Results go to the page, <pre id="results"> and
// window.__relayCheck (the Playwright suite asserts on them).
import {
  Keypair,
  RelayClient,
  RelayPool,
  minimumFee,
  type AccountEvent,
  type PoolStatus,
  type RuvError,
  type TxStatus,
} from "ruv-client";
import { askFaucet } from "./faucet";
import { loadNetwork } from "./network";

interface Step {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

export interface CheckResults {
  relay: string;
  ok: boolean;
  steps: Step[];
}

declare global {
  interface Window {
    __relayCheck?: CheckResults;
  }
}

const FAUCET_AMOUNT = 1_000_000_000n;
// The first relay of the network configuration next to this page (network.json).
const url = (await loadNetwork(location.href, null)).configuredRelays[0];
const steps: Step[] = [];
const list = document.getElementById("steps")!;
document.getElementById("relay-url")!.textContent = url;

class CheckFailed extends Error {}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new CheckFailed(message);
}

function codeOf(e: unknown): string {
  return (e as Partial<RuvError>)?.code ?? "";
}

/** Runs one step; a failed step stops the run (later steps depend on earlier ones). */
async function step(name: string, body: () => Promise<string>): Promise<void> {
  const start = performance.now();
  let ok = false;
  let detail: string;
  try {
    detail = await body();
    ok = true;
  } catch (e) {
    detail = e instanceof Error ? `${e.message}${codeOf(e) ? ` (${codeOf(e)})` : ""}` : String(e);
  }
  const s = { name, ok, detail, ms: Math.round(performance.now() - start) };
  steps.push(s);
  const li = document.createElement("li");
  li.dataset.testid = "check-step";
  li.dataset.ok = String(ok);
  const what = document.createElement("span");
  what.className = "what";
  what.textContent = name;
  const status = document.createElement("span");
  status.className = "status";
  status.dataset.status = ok ? "accepted" : "rejected";
  status.textContent = ok ? "OK" : "Failed";
  const info = document.createElement("span");
  info.className = "detail";
  info.textContent = `${detail} · ${s.ms} ms`;
  li.append(what, status, info);
  list.append(li);
  if (!ok) throw new CheckFailed(`${name}: ${detail}`);
}

/** A promise that resolves when `predicate` holds for an event pushed to the returned sink. */
function eventWaiter<T>(predicate: (event: T) => boolean): { sink: (event: T) => void; seen: T[]; until: Promise<T> } {
  const seen: T[] = [];
  let resolve!: (event: T) => void;
  const until = new Promise<T>((r) => (resolve = r));
  return {
    seen,
    until,
    sink: (event: T) => {
      seen.push(event);
      if (predicate(event)) resolve(event);
    },
  };
}

/** Rejects with `timeout` if `p` takes longer than `ms`: a stuck step must fail, not hang. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new CheckFailed(`${what}: nothing after ${ms} ms`)), ms)),
  ]);
}

/** Polls `condition` until it holds, failing after `ms`. */
async function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new CheckFailed(`${what}: nothing after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function run(): Promise<void> {
  let relay!: RelayClient;
  await step("connect", async () => {
    relay = await RelayClient.connect(url);
    expect(relay.connected, "not connected after connect()");
    return relay.url;
  });

  let network!: Awaited<ReturnType<RelayClient["networkStatus"]>>;
  await step("network status", async () => {
    network = await relay.networkStatus();
    expect(network.faucet, "this relay runs no faucet; the self-check needs a devnet relay");
    return `${network.relay} on ${network.chain_id}, fees base ${network.fees.base} + ${network.fees.per_byte}/byte`;
  });

  const alice = Keypair.generate();
  const bob = Keypair.generate();

  await step("get a new account", async () => {
    const a = await relay.getAccount(alice.address);
    expect(a.address === alice.address, "address differs");
    expect(a.balance === "0" && a.nonce === "0", `expected an empty account, got ${JSON.stringify(a)}`);
    return "balance 0, nonce 0";
  });

  const funded = eventWaiter<AccountEvent>((e) => BigInt(e.balance) >= FAUCET_AMOUNT);
  let accountSub = -1;
  await step("subscribe to an account (snapshot first)", async () => {
    accountSub = await relay.subscribeAccount(alice.address, funded.sink);
    await waitFor(() => funded.seen.length > 0, 5000, "snapshot event");
    const first = funded.seen[0];
    expect(first.type === "account" && first.address === alice.address && first.balance === "0", "bad snapshot");
    return `subscription ${accountSub}`;
  });

  let faucetId = "";
  await step("faucet pays, waitForFinal sees it accepted", async () => {
    const answer = await askFaucet(url, alice.address);
    expect(answer.ok, `faucet said no: ${answer.ok ? "" : answer.message}`);
    if (answer.ok) faucetId = answer.status.id;
    const final = await relay.waitForFinal(faucetId, 30_000);
    expect(final.id === faucetId && final.status === "accepted", `final status ${JSON.stringify(final)}`);
    return faucetId;
  });

  await step("account event shows the funds", async () => {
    const e = await within(funded.until, 10_000, "account event");
    return `balance ${e.balance}`;
  });

  await step("get transaction", async () => {
    const s = await relay.getTransaction(faucetId);
    expect(s.id === faucetId && s.status === "accepted" && s.reason === undefined, JSON.stringify(s));
    return "accepted";
  });

  const account = await relay.getAccount(alice.address);
  const fee = minimumFee(network, "");
  const pay = (nonce: bigint) =>
    alice.signTransfer({ chainId: network.chain_id, to: bob.address, amount: "1000000", fee, nonce: nonce.toString() });
  const tx = pay(BigInt(account.nonce) + 1n);

  await step("subscribe to a transaction, submit, wait for final", async () => {
    const events = eventWaiter<TxStatus>((e) => e.status !== "pending");
    await relay.subscribeTransaction(tx.id, events.sink);
    const first = await relay.submit(tx);
    expect(first.id === tx.id, "submitted id differs");
    const final = await relay.waitForFinal(tx.id, 30_000);
    expect(final.status === "accepted", `final ${JSON.stringify(final)}`);
    const last = await within(events.until, 10_000, "transaction event");
    expect(last.id === tx.id && last.status === "accepted", `event ${JSON.stringify(last)}`);
    return `${events.seen.map((e) => e.status).join(" → ")}`;
  });

  await step("recipient and sender balances", async () => {
    const b = await relay.getAccount(bob.address);
    expect(b.balance === "1000000", `bob has ${b.balance}`);
    const a = await relay.getAccount(alice.address);
    const expected = FAUCET_AMOUNT - 1_000_000n - BigInt(fee);
    expect(a.balance === expected.toString(), `alice has ${a.balance}, expected ${expected}`);
    expect(a.nonce === (BigInt(account.nonce) + 1n).toString(), `alice nonce ${a.nonce}`);
    return `bob ${b.balance}, alice ${a.balance} (fee ${fee})`;
  });

  await step("a reused nonce is refused", async () => {
    const replay = pay(BigInt(account.nonce) + 1n);
    expect(replay.id !== tx.id, "hedged signing should give a new id");
    try {
      const s = await relay.submit(replay);
      expect(s.status === "rejected" && s.reason?.code === "stale_nonce", `got ${JSON.stringify(s)}`);
      return `rejected: ${s.reason?.code}`;
    } catch (e) {
      expect(codeOf(e) === "stale_nonce", `error ${codeOf(e)}`);
      return "refused: stale_nonce";
    }
  });

  await step("unsubscribe", async () => {
    await relay.unsubscribe(accountSub);
    try {
      await relay.unsubscribe(accountSub);
    } catch (e) {
      expect(codeOf(e) === "invalid_params", `second unsubscribe: ${codeOf(e)}`);
      return "done; a second unsubscribe is refused locally";
    }
    throw new CheckFailed("a second unsubscribe succeeded");
  });

  await step("120 requests at once stay under the rate limit", async () => {
    const answers = await Promise.all(Array.from({ length: 120 }, () => relay.getAccount(bob.address)));
    expect(answers.every((a) => a.balance === "1000000"), "an answer differs");
    return "all answered, none rate_limited";
  });

  await step("unknown transaction and bad input give error codes", async () => {
    const codes: string[] = [];
    for (const call of [
      () => relay.getTransaction("00".repeat(32)),
      () => relay.getAccount("ruv1notanaddress"),
      () => relay.getTransaction("xyz"),
    ]) {
      try {
        await call();
        codes.push("ok");
      } catch (e) {
        codes.push(codeOf(e));
      }
    }
    expect(codes.join() === "not_found,invalid_address,invalid_transaction_id", codes.join());
    return codes.join(", ");
  });

  await step("close ends everything with code connection", async () => {
    const closed = new Promise<RuvError>((r) => relay.onClose(r));
    relay.close();
    const e = await within(closed, 5000, "onClose");
    expect(e.code === "connection", `onClose code ${e.code}`);
    expect(!relay.connected, "still connected");
    try {
      await relay.networkStatus();
    } catch (err) {
      expect(codeOf(err) === "connection", `after close: ${codeOf(err)}`);
      return "onClose called; later calls fail with connection";
    }
    throw new CheckFailed("a call after close succeeded");
  });
  relay.free();

  // A pool whose first relay is dead (nothing listens on port 9).
  const dead = `ws://127.0.0.1:9/api/v1/ws`;
  let pool!: RelayPool;
  const statuses: PoolStatus[] = [];
  await step("pool fails over from a dead relay", async () => {
    pool = await RelayPool.connect([dead, url]);
    pool.onStatus((s) => statuses.push(s));
    expect(pool.connected && pool.url === url, `connected to ${pool.url}`);
    expect(pool.relays.join() === [dead, url].join(), `relays ${pool.relays.join()}`);
    const s = await pool.networkStatus();
    return `on ${pool.url} (${s.relay})`;
  });

  await step("pool subscription survives a relay change", async () => {
    const bobEvents = eventWaiter<AccountEvent>((e) => e.balance === "2000000");
    const sub = await pool.subscribeAccount(bob.address, bobEvents.sink);
    await waitFor(() => bobEvents.seen.length > 0, 5000, "snapshot");
    // Drop the connection: the pool tries the dead relay, backs off, comes back.
    pool.reconnect();
    await waitFor(() => statuses.some((s) => !s.connected), 5000, "disconnect status");
    await waitFor(() => pool.connected, 15_000, "reconnect");
    const a = await pool.getAccount(alice.address);
    const second = alice.signTransfer({
      chainId: network.chain_id,
      to: bob.address,
      amount: "1000000",
      fee,
      nonce: (BigInt(a.nonce) + 1n).toString(),
    });
    const first = await pool.submit(second);
    expect(first.id === second.id, "submitted id differs");
    const final = await pool.waitForFinal(second.id, 30_000);
    expect(final.status === "accepted", `final ${JSON.stringify(final)}`);
    await within(bobEvents.until, 10_000, "event after the relay change");
    const balances = bobEvents.seen.map((e) => e.balance).join(" → ");
    // The resubscription's snapshot repeated an unchanged state: not delivered twice.
    expect(balances === "1000000 → 2000000", `events ${balances}`);
    const trail = statuses.map((s) => `${s.connected ? "up" : `down (${s.error?.code})`} ${new URL(s.url).port}`).join(", ");
    expect(statuses.some((s) => !s.connected && s.url === dead && s.error?.code === "connection"), `statuses ${trail}`);
    await pool.unsubscribe(sub);
    second.free();
    return `bob ${balances}; ${trail}`;
  });

  await step("pool close", async () => {
    pool.close();
    try {
      await pool.networkStatus();
    } catch (e) {
      expect(codeOf(e) === "connection", codeOf(e));
      expect(!pool.connected, "still connected");
      return "later calls fail with connection";
    }
    throw new CheckFailed("a call after close succeeded");
  });
  pool.free();
  tx.free();
  alice.free();
  bob.free();
}

run()
  .catch((e) => {
    if (!(e instanceof CheckFailed)) steps.push({ name: "unexpected error", ok: false, detail: String(e), ms: 0 });
  })
  .finally(() => {
    const results: CheckResults = { relay: url, ok: steps.length > 0 && steps.every((s) => s.ok), steps };
    document.getElementById("summary")!.textContent = results.ok
      ? `All ${steps.length} checks passed.`
      : `Failed: ${steps.find((s) => !s.ok)?.name ?? "?"}`;
    document.getElementById("results")!.textContent = JSON.stringify(results, null, 2);
    window.__relayCheck = results;
  });
