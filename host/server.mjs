#!/usr/bin/env node
// Command line for the reference host:
//   node host/server.mjs --kustom-url http://127.0.0.1:8787 --api-key kco_test_api_emulator --data-file /tmp/host.json
// The first stdout line is `listening on http://127.0.0.1:<port>` so that scripts can read the
// port; every line after it is the host's log. SIGTERM/SIGINT let running jobs finish first.
import { startHost } from "./host.mjs";
import { readFlags } from "../emulator/flags.mjs";

const FLAGS = { // flag → [option, parser]
  "port": ["port", Number], "kustom-url": ["kustomUrl", String], "api-key": ["apiKey", String],
  "data-file": ["dataFile", String], "time-scale": ["timeScale", Number],
  "public-base-url": ["publicBaseUrl", String], "package-dir": ["packageDir", String],
  "job-concurrency": ["jobConcurrency", Number],
  // Fault injection for restart tests: die (SIGKILL) right after a call whose description matches
  // this regular expression, e.g. "messageActor payment create" or "http POST .*/acknowledge".
  "crash-after": ["crashAfter", String],
  // A host's own limit on a call's time (the component asks for 10 s): lets tests reach a
  // timeout without waiting 10 s.
  "http-timeout-cap-ms": ["httpTimeoutCapMs", Number],
  // Test only: re-introduce a fixed defect so that the simulator (tests/sim/) can show it finds
  // it. `live-replies`: hand components the host's live objects instead of snapshots (issue 26).
  "defect": ["defect", String],
};
const usage = `usage: node host/server.mjs --kustom-url URL --data-file FILE [options]\n${Object.keys(FLAGS).map((flag) => `  --${flag}`).join("\n")}`;
const { defect, ...flags } = readFlags(FLAGS, usage);
const DEFECTS = { "live-replies": { liveReplies: true } };
if (defect !== undefined && !DEFECTS[defect]) {
  console.error(`unknown --defect ${defect}; known: ${Object.keys(DEFECTS).join(", ")}`);
  process.exit(2);
}
const options = { ...flags, defects: DEFECTS[defect] ?? {}, log: (line) => console.log(line) };
if (!options.kustomUrl || options.dataFile === undefined) {
  console.error(usage);
  process.exit(2);
}

const host = await startHost(options);
console.log(`listening on ${host.url}`);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => host.close().then(() => process.exit(0)));
}
