// Two builds of the package side by side (not a test): every component's whole execution, as in
// bench/run.mjs, alternating between the builds in one process so that both see the same machine
// (on a shared VM, figures from separate runs differ by more than most changes). Prints each
// build's warm median, their ratio, and the contract's own cost (bench/scenarios.mjs); then the
// sync rule against the floor, interleaved the same way.
//
// Usage: node bench/compare.mjs <before package dir> <after package dir>
//   e.g. git worktree add /tmp/before <commit> && (cd /tmp/before && bash scripts/build-package.sh)
//        node bench/compare.mjs /tmp/before/dist/kustom-app dist/kustom-app
import { createHash } from "node:crypto";
import { load, settings, now, cart, scenarios, cartBound, execute, contractCost, contractBytesRatio, quantile } from "./scenarios.mjs";

const [before, after] = process.argv.slice(2);
if (!before || !after) throw new Error("usage: node bench/compare.mjs <before package dir> <after package dir>");
const median = (xs) => quantile(xs, 0.5);
const clock = (fn) => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
/// Warm medians of `fns`, run in turn `runs` times after 20 warm-up rounds.
function interleaved(fns, runs) {
  for (let i = 0; i < 20; i++) fns.forEach((fn) => fn());
  const samples = fns.map(() => []);
  for (let i = 0; i < runs; i++) fns.forEach((fn, k) => samples[k].push(clock(fn)));
  return samples.map(median);
}
const ms = (x) => x.toFixed(3).padStart(8);

console.log(`${"component".padEnd(26)} ${"lines".padStart(5)} ${"steps".padStart(5)} ${"before".padStart(8)} ${"after".padStart(8)} ${"ratio".padStart(6)} ${"contract".padStart(8)} ${"bytes× before".padStart(13)} ${"after".padStart(6)}`);
for (const id of Object.keys(scenarios(1))) {
  for (const n of cartBound.has(id) ? [1, 50, 250] : [1]) {
    const scenario = scenarios(n)[id];
    const [a, b] = [load(id, before), load(id, after)];
    const contract = contractCost(b.run, scenario).median;
    const [ta, tb] = interleaved([() => execute(a.run, scenario), () => execute(b.run, scenario)], n === 250 ? 150 : 400);
    console.log(`${id.padEnd(26)} ${String(n).padStart(5)} ${String(scenario[1].length + 1).padStart(5)} ${ms(ta)} ${ms(tb)} ${(tb / ta).toFixed(2).padStart(6)} ${ms(contract)} ${contractBytesRatio(a.run, scenario).toFixed(2).padStart(13)} ${contractBytesRatio(b.run, scenario).toFixed(2).padStart(6)}`);
  }
}

console.log(`\nThe sync rule against the floor (the engine's JSON.stringify + SHA-256 of the same cart)\n`);
console.log(`${"lines".padStart(5)} ${"floor".padStart(8)} ${"before".padStart(8)} ${"ratio".padStart(6)} ${"after".padStart(8)} ${"ratio".padStart(6)} ${"contract".padStart(8)} ${"ratio".padStart(6)}`);
for (const n of [1, 50, 250]) {
  const input = { ...cart(n), settings, now };
  const [a, b] = [load("rules/cart-kustom-sync", before), load("rules/cart-kustom-sync", after)];
  const contract = contractCost(b.run, [input, []]).median;
  const [floor, ta, tb] = interleaved([
    () => createHash("sha256").update(JSON.stringify(input)).digest("hex"),
    () => a.run(input),
    () => b.run(input),
  ], 2000);
  console.log(`${String(n).padStart(5)} ${ms(floor)} ${ms(ta)} ${(ta / floor).toFixed(1).padStart(6)} ${ms(tb)} ${(tb / floor).toFixed(1).padStart(6)} ${ms(contract)} ${(contract / floor).toFixed(1).padStart(6)}`);
}
