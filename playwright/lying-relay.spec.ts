// The wallet against lying relays: a `ruv-liar` proxy (tests/src/liar.rs)
// sits in front of devnet relay 0 and rewrites checkpoints and proofs. The
// wallet page is opened with the liar first in its relay list.
//
// - With an honest relay second (change-balance, forge-checkpoint,
//   truncate-certificate, bad-signature, replay-other-network): the wallet
//   drops the liar and ends up showing the true balance, verified, through
//   the honest relay; no lie is ever shown as verified. forge-history: the
//   payment received shows from the honest relay's history, proven.
// - equivocate (colluding validators holding more than 2/3 of the stake sign
//   a second header per number, outside the fault model): the wallet notices
//   the two certified headers, says so and shows nothing as verified.
// - With the liar alone (withhold, stale): the balance is never shown as
//   verified with a wrong number, and once the stale limit (60 s) has passed
//   the connection is not shown as open.
//
// The two liar-alone pages need a minute of watching; they start in
// `beforeAll` and are watched in the background while the failover tests
// run, and checked by the last two tests.
import { expect, test, type APIRequestContext, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fundFromFaucet } from "./faucet";
import { createWallet } from "./wallet-flow";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const TARGET = process.env.CARGO_TARGET_DIR ?? join(ROOT, "target");
const LIAR_BIN = join(TARGET, "debug", "ruv-liar");
const RELAY_BIN = join(TARGET, "debug", "ruv-relay");

/** Devnet relay 0 (the liars' upstream; it runs the faucet). */
const UPSTREAM = "http://127.0.0.1:7300";
/** Devnet relay 1: the honest relay listed after the liar. */
const HONEST = "http://127.0.0.1:7301";
const HONEST_WS = "ws://127.0.0.1:7301/api/v1/ws";
/** What the devnet faucet pays (micro-rUv). */
const FAUCET_MICRO = "1000000000";
/** The wallet's stale limit: LightClient's default `staleAfterMs`. */
const STALE_LIMIT_MS = 60_000;
/** A verified balance may trail the honest relay's newest proof this long (a checkpoint or two). */
const GRACE_MS = 5_000;

// ---------------------------------------------------------------- processes

interface Child {
  process: ChildProcess;
  /** Everything it printed (stdout and stderr). */
  output: string[];
}

const children: Child[] = [];

/** Starts `bin args…`; resolves with the first match of `ready` in its output. */
function startChild(bin: string, args: string[], ready: RegExp, what: string): Promise<{ child: Child; match: RegExpMatchArray }> {
  const child: Child = { process: spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] }), output: [] };
  children.push(child);
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${what} did not start within 20 s:\n${child.output.join("")}`)), 20_000);
    const onData = (chunk: Buffer) => {
      // Relay logs are colored even when piped.
      child.output.push(chunk.toString().replace(/\x1b\[[0-9;]*m/g, ""));
      const match = child.output.join("").match(ready);
      if (match) {
        clearTimeout(timer);
        done({ child, match });
      }
    };
    child.process.stdout?.on("data", onData);
    child.process.stderr?.on("data", onData);
    child.process.on("error", (e) => {
      clearTimeout(timer);
      fail(new Error(`${what}: ${e.message}`));
    });
    child.process.on("exit", (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${child.output.join("")}`));
    });
  });
}

async function stopChild(child: Child): Promise<void> {
  const p = child.process;
  if (p.exitCode === null && p.signalCode === null) {
    const exited = new Promise((done) => p.once("exit", done));
    p.kill("SIGTERM");
    await exited;
  }
  children.splice(children.indexOf(child), 1);
}

interface Liar {
  mode: string;
  /** The WebSocket URL to give the wallet. */
  ws: string;
  child: Child;
}

/** Starts `ruv-liar --mode mode` in front of relay 0. */
async function startLiar(mode: string, extra: string[] = []): Promise<Liar> {
  const { child, match } = await startChild(
    LIAR_BIN,
    ["--upstream", UPSTREAM, "--listen", "127.0.0.1:0", "--mode", mode, ...extra],
    /listening on http:\/\/(\S+)/,
    `ruv-liar --mode ${mode}`,
  );
  return { mode, ws: `ws://${match[1]}/api/v1/ws`, child };
}

/**
 * Another network's certified checkpoint, in a file: a 1-relay devnet of its
 * own (other validators, genesis and so chain id), run until it certifies
 * its first checkpoint, then stopped.
 */
async function otherNetworkCheckpoint(dir: string): Promise<string> {
  const net = join(dir, "other-network");
  await new Promise<void>((done, fail) => {
    const init = spawn(RELAY_BIN, ["devnet-init", "--dir", net, "--relays", "1"], { stdio: "ignore" });
    init.on("error", fail);
    init.on("exit", (code) => (code === 0 ? done() : fail(new Error(`devnet-init exited ${code}`))));
  });
  const { child, match } = await startChild(
    RELAY_BIN,
    ["run", "--listen", "127.0.0.1:0", "--genesis", join(net, "genesis.json"), "--data-dir", join(net, "relay-0"),
      "--key-file", join(net, "relay-0.key"), "--name", "other-network"],
    /listening addr=(127\.0\.0\.1:\d+)/,
    "the other network's relay",
  );
  try {
    const url = `http://${match[1]}/api/v1/checkpoints/latest`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const response = await fetch(url).catch(() => null);
      if (response?.ok) {
        const file = join(dir, "other-network-checkpoint.json");
        writeFileSync(file, await response.text());
        return file;
      }
      if (Date.now() > deadline) throw new Error(`the other network certified no checkpoint within 30 s:\n${child.output.join("")}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await stopChild(child);
  }
}

// ---------------------------------------------------------------- the page

/** What the page showed, recorded in the page at every change. */
interface Shown {
  t: number;
  micro: string | null;
  state: string | null;
  checkpoint: string | null;
  connection: string | null;
  text: string;
}

interface WalletPage {
  context: BrowserContext;
  page: Page;
  /** Console warnings and errors (the light client says which relay it dropped, and why). */
  console: string[];
  pageErrors: string[];
}

/** Opens the wallet on a fresh profile with `relays` as its relay list; records every balance the page shows. */
async function openWallet(browser: Browser, relays: string[]): Promise<WalletPage> {
  // The wallet's origin allows connections to the devnet's own relays only
  // (its CSP connect-src); the liars listen on ports of their own.
  const context = await browser.newContext({ bypassCSP: true });
  await context.addInitScript(() => {
    const w = window as unknown as { __shown: unknown[] };
    w.__shown = [];
    const record = () => {
      const balance = document.getElementById("balance");
      const state = document.getElementById("balance-state");
      const connection = document.getElementById("connection");
      if (!balance || !state) return;
      const entry = {
        t: Date.now(),
        micro: balance.dataset.micro ?? null,
        state: state.dataset.state ?? null,
        checkpoint: state.dataset.checkpoint ?? null,
        connection: connection?.dataset.state ?? null,
        text: `${balance.textContent} · ${state.textContent} · ${connection?.textContent ?? ""}`,
      };
      const last = w.__shown.at(-1) as typeof entry | undefined;
      if (!last || last.micro !== entry.micro || last.state !== entry.state || last.checkpoint !== entry.checkpoint || last.connection !== entry.connection) {
        w.__shown.push(entry);
      }
    };
    new MutationObserver(record).observe(document, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["data-micro", "data-state", "data-checkpoint"],
    });
  });
  // A network.json like the one scripts/devnet.sh writes, made here from the
  // devnet's genesis (the wallet's trust anchor stays the devnet's own) with
  // `relays` as its relay list: the wallet takes its relays from there only.
  const genesis = readFileSync(join(process.env.RUV_E2E_DATA_DIR ?? "", "genesis.json"), "utf8");
  await context.route("**/network.json", (route) =>
    route.fulfill({ contentType: "application/json", body: `{"genesis":${genesis},"relays":${JSON.stringify(relays)}}` }),
  );
  const page = await context.newPage();
  const log: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "warning" || m.type() === "error") log.push(`${m.type()}: ${m.text()}`);
  });
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto("/");
  return { context, page, console: log, pageErrors };
}

async function shown(page: Page): Promise<Shown[]> {
  return page.evaluate(() => (window as unknown as { __shown: Shown[] }).__shown);
}

/** The certified balance the honest relay proves now. */
async function truth(request: APIRequestContext | null, address: string, relay = HONEST): Promise<string> {
  const url = `${relay}/api/v1/accounts/${address}/proof`;
  const body = request ? await (await request.get(url)).json() : await (await fetch(url)).json();
  if (typeof body?.balance !== "string") throw new Error(`no balance in ${JSON.stringify(body)}`);
  return body.balance;
}

/** Pays the faucet's amount to `address` through relay 0's REST API. */
async function fund(request: APIRequestContext, address: string): Promise<void> {
  await fundFromFaucet(request, UPSTREAM, address);
}

/** One line per change of what the page showed, for the test output. */
function timeline(history: Shown[]): string {
  const t0 = history[0]?.t ?? 0;
  return history.map((s) => `  +${((s.t - t0) / 1000).toFixed(1)} s  [${s.state}/${s.connection}] ${s.text}`).join("\n");
}

/**
 * Where the page showed a verified balance that differed from the honest
 * relay's proven balance for longer than `GRACE_MS` after that changed.
 */
function verifiedLies(history: Shown[], truths: { t: number; micro: string }[], end: number): string[] {
  const t0 = history[0]?.t ?? 0;
  const at = (t: number) => `+${((t - t0) / 1000).toFixed(1)} s`;
  const found: string[] = [];
  history.forEach((s, i) => {
    if (s.state !== "verified") return;
    const until = history[i + 1]?.t ?? end;
    let since = -Infinity;
    let previous: string | undefined;
    for (const truth of truths) {
      if (truth.micro !== previous) [since, previous] = [truth.t, truth.micro];
      if (truth.t < s.t || truth.t >= until || truth.micro === s.micro || truth.t - since <= GRACE_MS) continue;
      found.push(
        `from ${at(s.t)} to ${at(until)} the page showed ${s.micro} micro-rUv as verified ("${s.text}"); ` +
          `the honest relay proved ${truth.micro} from ${at(since)} on`,
      );
      return;
    }
  });
  return found;
}

/** The page's connection line, balance and relay as text, for the test output. */
async function screenText(page: Page): Promise<string> {
  const text = async (id: string) => ((await page.getByTestId(id).textContent({ timeout: 1_000 }).catch(() => null)) ?? "").trim();
  return [
    `connection: ${await text("connection")}`,
    `balance: ${await text("balance")} (${await text("balance-state")})`,
    `relay-url: ${await text("relay-url")}`,
    ...(await page.getByTestId("tx").allTextContents().catch(() => [])).map((t) => `activity: ${t.trim()}`),
  ].join("\n  ");
}

/** Logs what a page showed over time, how it ends, and its console warnings. */
async function report(what: string, wallet: WalletPage): Promise<Shown[]> {
  const history = await shown(wallet.page).catch(() => [] as Shown[]);
  console.log(`${what}: what the page showed (every change):\n${timeline(history)}`);
  console.log(`${what}: at the end:\n  ${await screenText(wallet.page)}`);
  const lines = wallet.console.length > 12 ? [...wallet.console.slice(0, 12), `… ${wallet.console.length - 12} more`] : wallet.console;
  console.log(`${what}: console warnings and errors:\n  ${lines.join("\n  ") || "(none)"}`);
  return history;
}

// ---------------------------------------------------------------- processes and pages of every test

let workDir = "";

test.beforeAll(() => {
  workDir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), "ruv-liars-"));
});

test.afterAll(async () => {
  for (const child of [...children]) await stopChild(child);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/**
 * Liar first, honest relay second: the wallet shows the true balance,
 * verified, through the honest relay, and never a lie.
 */
async function failover(browser: Browser, request: APIRequestContext, mode: string, extra: string[] = []): Promise<void> {
  const liar = await startLiar(mode, extra);
  const wallet = await openWallet(browser, [liar.ws, HONEST_WS]);
  const { page } = wallet;
  let fundedAt = Infinity;
  try {
    await expect(page.getByTestId("chain-id")).toHaveText(/^ruv-devnet-[a-z2-7]{20}$/);
    const { address } = await createWallet(page);
    // A new account: proven empty.
    await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", "0");
    await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "verified");

    fundedAt = Date.now();
    await fund(request, address);
    await expect.poll(() => truth(request, address), { timeout: 30_000 }).toBe(FAUCET_MICRO);

    await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", FAUCET_MICRO);
    await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "verified");
    await expect(page.getByTestId("balance")).toHaveText("1,000 rUv");
    expect(await truth(request, address)).toBe(FAUCET_MICRO);
    // Failed over: connected, through the honest relay.
    await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "open");
    await expect(page.getByTestId("connection")).toContainText(`via ${HONEST_WS}`);
    await expect(page.getByTestId("relay-url")).toHaveText(HONEST_WS);
    // The lie was caught (not merely avoided): the light client dropped the liar.
    expect(wallet.console.filter((line) => line.includes(`dropping relay ${liar.ws}`))).not.toEqual([]);
    expect(wallet.pageErrors).toEqual([]);
  } finally {
    // Whatever else happened: no lie on screen. Every balance shown as
    // verified is one the account really had (0, then the faucet's payment).
    const history = await report(mode, wallet);
    const verified = history.filter((s) => s.state === "verified");
    expect.soft(verified.filter((s) => s.t < fundedAt && s.micro !== "0").map((s) => s.text)).toEqual([]);
    expect.soft(verified.filter((s) => s.micro !== "0" && s.micro !== FAUCET_MICRO).map((s) => s.text)).toEqual([]);
    await wallet.context.close();
    await stopChild(liar.child);
  }
}

// ---------------------------------------------------------------- liars, and two pages watched in the background

/** A wallet page whose only relay is a liar, watched while the other tests run. */
interface Watched {
  liar: Liar;
  wallet: WalletPage;
  address: string;
  /** When it was funded. */
  fundedAt: number;
  /** Relay 0's proven balance of the account over time. */
  truths: { t: number; micro: string }[];
}

test.describe("liars in front of relay 0", () => {
  const watched = new Map<string, Watched>();
  let poller: ReturnType<typeof setInterval> | undefined;

  // The liar-alone pages: opened, given a wallet and funded here, then
  // watched through the stale limit while the failover tests run.
  test.beforeAll(async ({ browser, playwright }) => {
    test.setTimeout(90_000);
    const request = await playwright.request.newContext();
    await Promise.all(
      ["withhold", "stale"].map(async (mode) => {
        const liar = await startLiar(mode);
        const wallet = await openWallet(browser, [liar.ws]);
        const { page } = wallet;
        const { address } = await createWallet(page);
        const w: Watched = { liar, wallet, address, fundedAt: 0, truths: [{ t: Date.now(), micro: await truth(request, address, UPSTREAM) }] };
        watched.set(mode, w);
        if (mode === "stale") {
          // The liar serves live data at first: the wallet connects and proves
          // the new account empty; then it asks the faucet (through the liar).
          await expect(page.getByTestId("connection")).toHaveAttribute("data-state", "open");
          await expect(page.getByTestId("balance")).toHaveAttribute("data-micro", "0");
          await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "verified");
          await page.getByTestId("faucet").click();
          w.fundedAt = Date.now();
          await expect(page.locator('[data-testid="tx"][data-kind="faucet"]').getByTestId("tx-status")).toHaveAttribute(
            "data-status",
            "final",
          );
        } else {
          // Withheld from the start: no verified checkpoint, so no faucet
          // button; paid through relay 0's REST API instead.
          await fund(request, address);
          w.fundedAt = Date.now();
        }
      }),
    );
    await request.dispose();
    poller = setInterval(() => {
      for (const w of watched.values()) {
        void truth(null, w.address, UPSTREAM)
          .then((micro) => w.truths.push({ t: Date.now(), micro }))
          .catch(() => {});
      }
    }, 500);
  });

  test.afterAll(async () => {
    if (poller) clearInterval(poller);
    for (const w of watched.values()) await w.wallet.context.close();
  });

  /** Waits until the stale limit has passed since `w` was funded; returns what its page showed, and the lies. */
  async function outcome(w: Watched): Promise<{ history: Shown[]; lies: string[] }> {
    const wait = w.fundedAt + STALE_LIMIT_MS + 8_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const history = await report(`${w.liar.mode} (the only relay)`, w.wallet);
    return { history, lies: verifiedLies(history, w.truths, Date.now()) };
  }

  for (const mode of ["change-balance", "forge-checkpoint", "truncate-certificate", "bad-signature", "replay-other-network"]) {
    test(`${mode}: the wallet drops the liar and shows the true balance, verified, via the honest relay`, async ({
      browser,
      request,
    }) => {
      const extra = mode === "replay-other-network" ? ["--other-genesis-checkpoint", await otherNetworkCheckpoint(workDir)] : [];
      await failover(browser, request, mode, extra);
    });
  }

  test("forge-history: the wallet drops the liar and shows the payment received, proven, via the honest relay", async ({
    browser,
    request,
  }) => {
    const liar = await startLiar("forge-history");
    const wallet = await openWallet(browser, [liar.ws, HONEST_WS]);
    const { page } = wallet;
    try {
      const { address } = await createWallet(page);
      await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "verified");
      // Paid from outside this wallet: only the relays' history tells it.
      await fund(request, address);
      const received = page.locator('[data-testid="tx"][data-kind="received"]');
      await expect(received.getByTestId("tx-status")).toHaveAttribute("data-status", "final");
      // The liar said 1,001 rUv under the honest proof: caught, dropped, and the truth shown.
      await expect(received).toContainText("Received 1,000 rUv");
      await expect(page.getByTestId("tx")).toHaveCount(1);
      expect(wallet.console.filter((line) => line.includes(`dropping relay ${liar.ws}`))).not.toEqual([]);
      await expect(page.getByTestId("relay-url")).toHaveText(HONEST_WS);
      expect(wallet.pageErrors).toEqual([]);
    } finally {
      await wallet.context.close();
      await stopChild(liar.child);
    }
  });

  test("withhold, the only relay: never verified, never shown as connected", async () => {
    const w = watched.get("withhold");
    if (!w) throw new Error("the withhold page did not start");
    const { history, lies } = await outcome(w);
    expect(lies).toEqual([]);
    // Nothing was ever proven: no balance shown as verified, and no open connection.
    expect(history.filter((s) => s.state === "verified").map((s) => s.text)).toEqual([]);
    expect(history.filter((s) => s.connection === "open").map((s) => s.text)).toEqual([]);
    await expect(w.wallet.page.getByTestId("balance-state")).toHaveAttribute("data-state", "unverified");
    await expect(w.wallet.page.getByTestId("connection")).not.toHaveAttribute("data-state", "open");
    expect(w.wallet.pageErrors).toEqual([]);
  });

  test("stale, the only relay: never a wrong verified balance; stale once the limit passes", async () => {
    const w = watched.get("stale");
    if (!w) throw new Error("the stale page did not start");
    const { lies } = await outcome(w);
    // Past the stale limit the page claims neither a live connection nor a verified balance.
    await expect(w.wallet.page.getByTestId("connection")).not.toHaveAttribute("data-state", "open");
    await expect(w.wallet.page.getByTestId("balance-state")).toHaveAttribute("data-state", /^(stale|unverified)$/);
    // And before it, no balance the honest relay had already proven wrong was shown as verified.
    expect(lies).toEqual([]);
    expect(w.wallet.pageErrors).toEqual([]);
  });
});

// Outside the watched group, last: it needs no background pages, so when a
// failure before it restarts the worker, the group's minute-long beforeAll
// does not run again for it.
//
// More than 2/3 of the stake signing a second header per number is outside
// the fault model: no light client can tell which side is true. What the
// wallet must do is notice (two validly certified headers with one number),
// say so, and stop showing anything as verified.
test("equivocate: colluding validators (>2/3) certify a second header per number; the wallet says so and shows nothing as verified", async ({
  browser,
  request,
}) => {
  const keys = process.env.RUV_E2E_DATA_DIR;
  if (!keys) throw new Error("RUV_E2E_DATA_DIR (the devnet folder, with every validator key) is not set");
  const liar = await startLiar("equivocate", ["--keys", keys]);
  const wallet = await openWallet(browser, [liar.ws, HONEST_WS]);
  const { page } = wallet;
  try {
    await expect(page.getByTestId("chain-id")).toHaveText(/^ruv-devnet-[a-z2-7]{20}$/);
    const { address } = await createWallet(page);
    await fund(request, address);
    await expect(page.getByTestId("balance-state")).toContainText("two different checkpoints", { timeout: 60_000 });
    await expect(page.getByTestId("balance-state")).toHaveAttribute("data-state", "unverified");
    await expect(page.getByTestId("connection")).not.toHaveAttribute("data-state", "open");
    await expect(page.getByTestId("send")).toBeDisabled();
    expect(wallet.pageErrors).toEqual([]);
  } finally {
    const history = await report("equivocate", wallet);
    const verified = history.filter((s) => s.state === "verified");
    expect.soft(verified.filter((s) => s.micro !== "0" && s.micro !== FAUCET_MICRO).map((s) => s.text)).toEqual([]);
    await wallet.context.close();
    await stopChild(liar.child);
  }
});
