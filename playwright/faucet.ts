// The devnet faucet from the test runner (Node): fetch relay 0's
// proof-of-work challenge, solve it with the same wasm the wallet runs
// (client-wasm/pkg-web, loaded once), post the solved request.
import { expect, type APIRequestContext } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const PKG_WEB = join(resolve(fileURLToPath(new URL("..", import.meta.url))), "client-wasm", "pkg-web");

type Solver = (challengeJson: string, address: string) => string;
let solver: Promise<Solver> | null = null;

function loadSolver(): Promise<Solver> {
  solver ??= (async () => {
    const wasm = await import(pathToFileURL(join(PKG_WEB, "ruv_client.js")).href);
    wasm.initSync({ module: readFileSync(join(PKG_WEB, "ruv_client_bg.wasm")) });
    return wasm.solveFaucetChallenge as Solver;
  })();
  return solver;
}

/** Has the faucet of the relay at `origin` (http) pay `address`; expects it to say yes. */
export async function fundFromFaucet(request: APIRequestContext, origin: string, address: string): Promise<void> {
  const solve = await loadSolver();
  const challenge = await request.get(`${origin}/api/v1/faucet/challenge`);
  const challengeText = await challenge.text();
  expect(challenge.ok(), challengeText).toBe(true);
  const response = await request.post(`${origin}/api/v1/faucet`, {
    headers: { "content-type": "application/json" },
    data: solve(challengeText, address),
  });
  const body = await response.json();
  expect(response.ok(), JSON.stringify(body)).toBe(true);
  expect(body.status).not.toBe("rejected");
}
