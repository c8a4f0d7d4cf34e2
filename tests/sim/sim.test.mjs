// The whole-system simulation in CI (issue 28): a fixed seed, then a fresh one (printed, so a
// failure can be replayed: `node tests/sim/sim.mjs --seed N`), each a bounded run; and the
// proof that it finds the host defect of issue 26 (`--defect live-replies`). `SIM_SESSIONS`
// changes the size of a run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { run, describe } from "./sim.mjs";
import { plan } from "./plan.mjs";

const SESSIONS = Number(process.env.SIM_SESSIONS ?? 8);
const LIMIT = { timeout: 150_000 };

async function holds(seed) {
  const p = plan(seed, { sessions: SESSIONS, concurrency: 4 });
  const { failures, stats } = await run(p);
  console.log(`seed ${seed}: ${JSON.stringify(stats)}`);
  assert.deepEqual(failures, [], `seed ${seed} broke invariants; re-run: node tests/sim/sim.mjs --seed ${seed} --sessions ${SESSIONS}\n${describe(p)}`);
}

test("the simulation's invariants hold on a fixed seed", LIMIT, () => holds(20261207));

test("and on a fresh seed", LIMIT, () => {
  const seed = (Date.now() ^ (process.pid << 8)) >>> 0;
  console.log(`fresh seed: ${seed}`);
  return holds(seed);
});

test("it finds the host of issue 26 (live objects as replies) within a few runs", LIMIT, async () => {
  // Seed 3 found it at its first run when this was written; the defect shows only when a slow
  // update meets a cart change, so a few seeds are allowed.
  for (const seed of [3, 4, 5, 6]) {
    const { failures } = await run(plan(seed, { sessions: SESSIONS, concurrency: 4 }), { defect: "live-replies" });
    if (failures.some((f) => /the hashes met .* but Kustom's order/.test(f))) return console.log(`found at seed ${seed}: ${failures[0]}`);
  }
  assert.fail("the simulation did not find the live-reply host in four runs");
});
