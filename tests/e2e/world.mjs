// One end-to-end world per test: the Kustom emulator and the reference host as real processes
// (`node emulator/server.mjs`, `node host/server.mjs`) on the loopback, the host running the built
// wasm modules from dist/kustom-app. A test talks HTTP to both, can kill the host (SIGKILL, as a
// crash) and start it again on the same port and state file, and closes everything when it ends.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
export { waitFor } from "../emulator/helpers.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const TIME_SCALE = 600; // ten emulated minutes per second: pushes and retries come quickly
const apiKey = "kco_test_api_e2e";
/// The emulator's transcripts (every request and answer) land here for tests/spec/check_transcript.py.
export const TRANSCRIPTS = process.env.KUSTOM_TRANSCRIPTS ?? join(root, "target", "e2e-transcripts");

export const checkoutUrls = (cartId) => ({ termsUrl: "https://shop.example.se/villkor", checkoutUrl: "https://shop.example.se/kassa",
  confirmationUrl: `https://shop.example.se/bekraftelse?cart=${cartId}` });

/// Starts `node <script> <args>` and resolves once it prints `listening on <url>`. Its output is
/// kept (`lines`) so that a failing test can show what the process said.
export function startProcess(script, args, lines) {
  // E2E_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the servers.
  const nodeArgs = process.env.E2E_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, join(root, script), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  createInterface({ input: child.stderr }).on("line", (line) => lines.push(`${script} stderr: ${line}`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${lines.join("\n")}`)), 10_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      const match = /^listening on (\S+)/.exec(line);
      if (match) { clearTimeout(timer); resolve({ child, exited, url: match[1] }); }
    });
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`${script} exited (${code ?? signal}):\n${lines.join("\n")}`)); });
  });
}

export async function world(t, { hostArgs = [], emulatorArgs = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "kustom-e2e-"));
  const dataFile = join(dir, "host-state.json");
  const lines = [];
  // Callbacks keep Kustom's real 3 s timeout (not 3 s / 600): a loaded CI machine must not turn
  // a slow validation answer into a timeout, which Kustom treats as approval.
  const emulator = await startProcess("emulator/server.mjs", ["--port", "0", "--api-key", apiKey, "--time-scale", String(TIME_SCALE),
    "--min-callback-timeout-ms", "3000", ...emulatorArgs], lines);
  let host;
  const startHost = async (port = 0, extra = hostArgs) => {
    host = await startProcess("host/server.mjs", ["--port", String(port), "--kustom-url", emulator.url, "--api-key", apiKey,
      "--data-file", dataFile, "--time-scale", String(TIME_SCALE), ...extra], lines);
  };
  await startHost();

  const json = async (response) => { const text = await response.text(); return text ? JSON.parse(text) : null; };
  const w = {
    emulatorUrl: emulator.url,
    get hostUrl() { return host.url; },
    lines,
    /// Storefront and admin calls to the host: {status, body}.
    async call(method, path, body) {
      const response = await fetch(`${host.url}${path}`, { method, headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, body: await json(response) };
    },
    /// The platform's state as the host holds it (carts, payments, jobs).
    async state() { return (await w.call("GET", "/admin/state")).body; },
    /// Until no job is running or due within the limit.
    async idle(limitMs = 10_000) { await w.call("POST", "/admin/idle", { limitMs }); },
    /// Kustom's API with the app's credentials.
    async kustom(path) {
      return json(await fetch(`${emulator.url}${path}`, { headers: { authorization: `Basic ${apiKey}` } }));
    },
    /// The emulator's control routes: GET when there is no body.
    async control(path, body) {
      const response = await fetch(`${emulator.url}/__emulator${path}`, body === undefined ? {}
        : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      return { status: response.status, body: await json(response) };
    },
    /// Kills the host (SIGKILL unless it died already) and starts it again on the same port and
    /// state file: what a crashed and restarted host does.
    async restart(extra = []) {
      if (host.child.exitCode === null && host.child.signalCode === null) host.child.kill("SIGKILL");
      await host.exited;
      await startHost(new URL(host.url).port, extra);
    },
    /// Resolves when the host process has died (a test that made it crash).
    hostExited: () => host.exited,
  };

  t.after(async () => {
    // Keep what the emulator saw, for the spec check of every request and answer.
    const transcript = await w.control("/requests").catch(() => null);
    const name = join(TRANSCRIPTS, t.name.replace(/[^\w]+/g, "-").slice(0, 80));
    mkdirSync(TRANSCRIPTS, { recursive: true });
    if (transcript?.status === 200) writeFileSync(`${name}.json`, JSON.stringify(transcript.body, null, 1));
    writeFileSync(`${name}.log`, `${lines.join("\n")}\n`); // what the host and emulator said, for a failing test
    for (const p of [host, emulator]) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
      await p.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return w;
}

/// A cart with 2 T-shirts and 3 mugs, checked out: the Kustom order exists.
export async function checkedOut(w) {
  const { body: { cartId } } = await w.call("POST", "/ingress/commerce/carts", { locale: "sv-SE" });
  await w.call("POST", `/ingress/commerce/carts/${cartId}/add-item`, { productNumber: "TS-RED-M", quantity: 2 });
  const { body: cart } = await w.call("POST", `/ingress/commerce/carts/${cartId}/add-item`, { productNumber: "MUG-1", quantity: 3 });
  const { status, body } = await w.call("POST", `/ingress/commerce/carts/${cartId}/payment/kustom`, checkoutUrls(cartId));
  if (status !== 200) throw new Error(`checkout answered ${status}: ${JSON.stringify(body)}`);
  return { cartId, orderId: body.kustomOrderId, cart };
}
