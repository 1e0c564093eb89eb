// Argon2 runs in a Web Worker: while the wallet derives the key from the
// password (create and unlock), the page's own thread stays free. The page
// counts animation frames and timer ticks; a wrapper around `Worker`
// (installed before the wallet's scripts) notes when the key-derivation
// worker starts and when it answers. Ticks that happen in between prove the
// page kept running during Argon2. No timing threshold: only that it moved.
import { expect, test, type Page } from "@playwright/test";
import { PASSWORD, createWallet, pageErrors } from "./wallet-flow";

interface Probe {
  frames: number;
  ticks: number;
  /** Per worker started: its name, and the frame and tick counts at its start and at its answer. */
  workers: { name: string; start: [number, number]; answer: [number, number] | null }[];
}

declare global {
  interface Window {
    __ruvProbe: Probe;
  }
}

/** Installs the counters and the Worker wrapper in every document of the page. */
async function installProbe(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const probe: Probe = { frames: 0, ticks: 0, workers: [] };
    window.__ruvProbe = probe;
    const frame = () => {
      probe.frames++;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    setInterval(() => probe.ticks++, 5);
    const NativeWorker = window.Worker;
    window.Worker = class extends NativeWorker {
      constructor(url: string | URL, options?: WorkerOptions) {
        super(url, options);
        const entry: Probe["workers"][number] = { name: options?.name ?? "", start: [probe.frames, probe.ticks], answer: null };
        probe.workers.push(entry);
        // Added before the wallet's own listener: runs first when the answer arrives.
        this.addEventListener("message", () => {
          entry.answer ??= [probe.frames, probe.ticks];
        });
      }
    };
  });
}

const probeOf = (page: Page) => page.evaluate(() => window.__ruvProbe);

test("the page keeps running while Argon2 derives the key in a worker (create, then unlock)", async ({ browser }, testInfo) => {
  const page = await (await browser.newContext()).newPage();
  const errors = pageErrors(page);
  await installProbe(page);
  await page.goto("/");
  await expect(page.getByTestId("screen-welcome")).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("wallet-welcome.png"), fullPage: true });

  await createWallet(page);
  // Creating derives the key, showing the phrase checks the password again: each in a worker of its own.
  const created = await probeOf(page);
  expect(created.workers.length).toBeGreaterThan(0);
  for (const w of created.workers) {
    expect(w.name).toBe("ruv-kdf");
    expect(w.answer).not.toBeNull();
    expect(w.answer![1]).toBeGreaterThan(w.start[1]);
  }

  await page.reload();
  await expect(page.getByTestId("screen-locked")).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("wallet-locked.png"), fullPage: true });
  expect((await probeOf(page)).workers).toEqual([]);

  await page.getByTestId("unlock-password").fill(PASSWORD);
  await page.getByTestId("unlock").click();
  await expect(page.getByTestId("screen-wallet")).toBeVisible();

  const unlocked = await probeOf(page);
  expect(unlocked.workers).toHaveLength(1);
  const [worker] = unlocked.workers;
  expect(worker.name).toBe("ruv-kdf");
  expect(worker.answer).not.toBeNull();
  const [framesAtStart, ticksAtStart] = worker.start;
  const [framesAtAnswer, ticksAtAnswer] = worker.answer!;
  // Frames were drawn and timers ran while Argon2 was running.
  expect(framesAtAnswer).toBeGreaterThan(framesAtStart);
  expect(ticksAtAnswer).toBeGreaterThan(ticksAtStart);
  expect(errors).toEqual([]);
});
