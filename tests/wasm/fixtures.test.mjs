// Runs every fixture file tests/fixtures/<component id>/<case>.json against the *built* wasm
// module of that component (dist/kustom-app/<component id>/, from scripts/build-package.sh),
// in Node as a host would, and compares the whole output with `expected`: the same files the
// native suite (tests/fixtures.rs) runs, so native and wasm must agree to the byte.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(import.meta.url);

export function loadComponent(id) {
  const name = id.split("/")[1].replaceAll("-", "_");
  const glue = join(root, "dist", "kustom-app", id, `${name}.js`);
  if (!existsSync(glue)) throw new Error(`${glue} missing: run scripts/build-package.sh first`);
  return require(glue);
}

const fixtureRoot = join(root, "tests", "fixtures");
let count = 0;
for (const kind of ["rules", "jobs", "ingresses"]) {
  if (!existsSync(join(fixtureRoot, kind))) continue;
  for (const component of readdirSync(join(fixtureRoot, kind)).sort()) {
    const id = `${kind}/${component}`;
    for (const file of readdirSync(join(fixtureRoot, id)).filter((f) => f.endsWith(".json")).sort()) {
      count++;
      test(`${id} ${file}`, () => {
        const fixture = JSON.parse(readFileSync(join(fixtureRoot, id, file), "utf8"));
        const output = loadComponent(id).run(fixture.input);
        // A fixture replays (every reply, no continuation): the continuation it hands back is
        // checked by the native suite, which resumes from it (tests/fixtures.rs).
        const { continuation, ...compared } = output;
        if (continuation) assert.equal(continuation.component, id, "a continuation names its component");
        assert.deepStrictEqual(compared, fixture.expected);
        // Hosts receive plain JSON objects, not Maps: it must survive a JSON round trip.
        assert.deepStrictEqual(JSON.parse(JSON.stringify(output)), output);
      });
    }
  }
}
test("the fixture suite is there", () => assert.ok(count >= 20, `only ${count} fixtures`));
