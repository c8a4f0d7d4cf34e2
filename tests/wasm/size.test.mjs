// Every component's module stays within the size budget of design.md: ≤ 100 KiB gzip after the
// release build (scripts/build-package.sh, which prints the same figures with `gzip -9`). A module
// is downloaded and compiled by the platform; a feature that pushes one over must pay for itself
// elsewhere (docs/adding-a-component.md says how the modules were kept small).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "kustom-app");
const BUDGET = 100 * 1024;

test("every component module is at most 100 KiB gzip", () => {
  const modules = [];
  for (const kind of ["rules", "jobs", "ingresses"]) {
    const dir = join(dist, kind);
    if (!existsSync(dir)) continue;
    for (const component of readdirSync(dir)) {
      const wasm = readdirSync(join(dir, component)).find((f) => f.endsWith("_bg.wasm"));
      const bytes = readFileSync(join(dir, component, wasm));
      modules.push({ module: `${kind}/${component}`, gzip: gzipSync(bytes, { level: 9 }).length });
    }
  }
  assert.ok(modules.length >= 14, `the package is built (dist/kustom-app), found ${modules.length} modules`);
  const over = modules.filter((m) => m.gzip > BUDGET);
  assert.deepEqual(over, [], `over ${BUDGET} bytes gzip:\n${over.map((m) => `${m.module} ${m.gzip}`).join("\n")}`);
});
