// Benchmark (not a test): the cost of every component through its built wasm module in Node,
// for carts of 1, 50 and 250 lines, as a host runs it — every step of a multi-step component,
// each re-run with the replies so far. Prints, per component and size: warm median and p99 of a
// whole execution over many runs, and cold (load the module + first execution, a fresh process
// each time). Beside the sync rule: the floor (the engine's JSON.stringify + SHA-256 of the same
// cart) and the two boundary encodings (JSON text, the default, and serde-wasm-bindgen).
//
// Usage: bash scripts/bench.sh  (builds the package and the both-encodings rule first)
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

import { glue, load, settings, now, cart, scenarios, cartBound, execute, contractCost, contractBytesRatio, time, quantile } from "./scenarios.mjs";

const require = createRequire(import.meta.url);

const ms = (x) => x.toFixed(3).padStart(8);

if (process.argv[2] === "--cold") {
  // A fresh process that has never loaded the module (the scenario comes from a file: preparing
  // it here would load the sync rule). Three figures, in ms: compiling the wasm bytes; loading the
  // glue and instantiating (V8 reuses the module it just compiled from the same bytes) plus the
  // first call; and the rest of the whole first execution.
  const [id, file] = [process.argv[3], process.argv[4]];
  const scenario = JSON.parse(readFileSync(file, "utf8"));
  const bytes = readFileSync(glue(id).replace(/\.js$/, "_bg.wasm"));
  const clock = () => Number(process.hrtime.bigint()) / 1e6;
  const t0 = clock();
  new WebAssembly.Module(bytes);
  const t1 = clock();
  const { run } = require(glue(id));
  run({ ...scenario[0], replies: [] });
  const t2 = clock();
  execute(run, scenario);
  console.log(JSON.stringify([t1 - t0, t2 - t1, clock() - t2]));
  process.exit(0);
}

const sizes = [1, 50, 250];
// `node bench/run.mjs --warm`: warm figures only (no cold processes, no eager compilation), for
// measuring a change quickly; the floor comparison uses the packaged rule.
const warmOnly = process.argv[2] === "--warm";
console.log(`\nPer whole execution (all steps), Node ${process.version}; warm: median/p99 of 300 runs. Cold, median of 5 fresh processes:`);
console.log(`compile = the wasm bytes to a module; start = load the glue, instantiate, first call; rest = the other steps of the first execution\n`);
console.log(`contract = the engine's own JSON work the host contract makes (contractCost): the least any component can take`);
console.log(`bytes× = bytes the host stringifies over the execution ÷ bytes of its trigger and replies once (resuming; issue 21's budget ≤ 1.5)\n`);
console.log(`${"component".padEnd(26)} ${"lines".padStart(5)} ${"steps".padStart(5)} ${"warm ms".padStart(8)} ${"p99 ms".padStart(8)} ${"contract".padStart(8)} ${"bytes×".padStart(6)} ${"compile".padStart(8)} ${"start".padStart(8)} ${"rest".padStart(8)}`);
const scenarioFile = join(mkdtempSync(join(tmpdir(), "kustom-bench-")), "scenario.json");
for (const id of Object.keys(scenarios(1))) {
  for (const n of cartBound.has(id) ? sizes : [1]) {
    const scenario = scenarios(n)[id];
    const { run } = load(id);
    const warm = time(() => execute(run, scenario), 300);
    const contract = contractCost(run, scenario);
    writeFileSync(scenarioFile, JSON.stringify(scenario));
    const cold = warmOnly ? [[NaN, NaN, NaN]] : Array.from({ length: 5 }, () => JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--cold", id, scenarioFile], { encoding: "utf8" })));
    const coldMs = (k) => ms(quantile(cold.map((c) => c[k]), 0.5));
    console.log(`${id.padEnd(26)} ${String(n).padStart(5)} ${String(scenario[1].length + 1).padStart(5)} ${ms(warm.median)} ${ms(warm.p99)} ${ms(contract.median)} ${contractBytesRatio(run, scenario).toFixed(2).padStart(6)} ${coldMs(0)} ${coldMs(1)} ${coldMs(2)}`);
  }
}

// Node compiles wasm lazily, so the first call above also compiles every function it touches. A
// host that compiles a module once (at deploy, or with a code cache) pays that before any call:
// the same cold runs with eager compilation show what is then left for instantiate + first call.
if (!warmOnly) {
console.log(`\nCold with eager compilation (node --no-wasm-lazy-compilation), 1-line cart, median of 5: compile once, then start\n`);
console.log(`${"component".padEnd(26)} ${"compile".padStart(8)} ${"start".padStart(8)}`);
for (const id of Object.keys(scenarios(1))) {
  writeFileSync(scenarioFile, JSON.stringify(scenarios(1)[id]));
  const cold = Array.from({ length: 5 }, () => JSON.parse(execFileSync(process.execPath,
    ["--no-wasm-lazy-compilation", fileURLToPath(import.meta.url), "--cold", id, scenarioFile], { encoding: "utf8" })));
  console.log(`${id.padEnd(26)} ${ms(quantile(cold.map((c) => c[0]), 0.5))} ${ms(quantile(cold.map((c) => c[1]), 0.5))}`);
}
}

console.log(`\nThe hot path, cart-kustom-sync, against the floor (JSON.stringify + SHA-256 of the same cart) and by boundary encoding\n`);
console.log(`contract = the engine's JSON work the boundary makes (stringify + encode the input, parse the output): its ratio is the least the rule can have\n`);
console.log(`${"lines".padStart(5)} ${"floor ms".padStart(9)} ${"contract".padStart(9)} ${"ratio".padStart(6)} ${"JSON text".padStart(10)} ${"ratio".padStart(6)} ${"serde-wasm-bindgen".padStart(19)} ${"ratio".padStart(6)}`);
const both = warmOnly ? { ...load("rules/cart-kustom-sync"), runSerde: null } : load("rules/cart-kustom-sync", "bench/dist");
for (const n of sizes) {
  const input = { ...cart(n), settings, now };
  if (both.runSerde && !isDeepStrictEqual(both.run(input), both.runSerde(input))) throw new Error("the encodings disagree");
  const floor = time(() => createHash("sha256").update(JSON.stringify(input)).digest("hex"), 2000).median;
  const json = time(() => both.run(input), 1000).median;
  const contract = contractCost(both.run, [input, []]).median;
  const serde = both.runSerde ? time(() => both.runSerde(input), 1000).median : NaN;
  console.log(`${String(n).padStart(5)} ${ms(floor).padStart(9)} ${ms(contract).padStart(9)} ${(contract / floor).toFixed(1).padStart(6)} ${ms(json).padStart(10)} ${(json / floor).toFixed(1).padStart(6)} ${ms(serde).padStart(19)} ${(serde / floor).toFixed(1).padStart(6)}`);
}
