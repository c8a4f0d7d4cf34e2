#!/usr/bin/env node
// Command line for the reference host:
//   node host/server.mjs --kustom-url http://127.0.0.1:8787 --api-key kco_test_api_emulator --data-file /tmp/host.json
// The first stdout line is `listening on http://127.0.0.1:<port>` so that scripts can read the
// port; every line after it is the host's log. SIGTERM/SIGINT let running jobs finish first.
import { startHost } from "./host.mjs";

const FLAGS = { // --flag → [option, parser]
  "--port": ["port", Number], "--kustom-url": ["kustomUrl", String], "--api-key": ["apiKey", String],
  "--data-file": ["dataFile", String], "--time-scale": ["timeScale", Number],
  "--public-base-url": ["publicBaseUrl", String], "--package-dir": ["packageDir", String],
  "--job-concurrency": ["jobConcurrency", Number],
  // Fault injection for restart tests: die (SIGKILL) right after a call whose description matches
  // this regular expression, e.g. "messageActor payment create" or "http POST .*/acknowledge".
  "--crash-after": ["crashAfter", String],
  // A host's own limit on a call's time (the component asks for 10 s): lets tests reach a
  // timeout without waiting 10 s.
  "--http-timeout-cap-ms": ["httpTimeoutCapMs", Number],
};

function usage(code) {
  const lines = Object.keys(FLAGS).map((flag) => `  ${flag}`);
  (code ? console.error : console.log)(`usage: node host/server.mjs --kustom-url URL --data-file FILE [options]\n${lines.join("\n")}`);
  process.exit(code);
}

const options = { log: (line) => console.log(line) };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const [flag, inline] = argv[i].split(/=(.*)/s);
  if (flag === "--help" || flag === "-h") usage(0);
  const spec = FLAGS[flag];
  const raw = inline ?? argv[++i];
  if (!spec || raw === undefined) usage(2);
  const value = spec[1](raw);
  if (typeof value === "number" && !Number.isFinite(value)) usage(2);
  options[spec[0]] = value;
}
if (!options.kustomUrl || options.dataFile === undefined) usage(2);

const host = await startHost(options);
console.log(`listening on ${host.url}`);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => host.close().then(() => process.exit(0)));
}
