// The reference host's embedded store: a JSON snapshot plus an append-only journal beside it.
// Every change is one journal line holding the new value of each entity it touched (a cart, a
// payment, the job queue, the stock), appended before the host answers or moves on, so a killed
// host loses nothing it had acknowledged. Opening the store replays the journal over the
// snapshot (a torn last line, from a kill in mid-write, is ignored) and compacts both into a new
// snapshot. The cost of a change is the size of what it touched, not of the whole state.
import { readFileSync, writeFileSync, renameSync, existsSync, appendFileSync, rmSync } from "node:fs";

const ENTITIES = ["carts", "payments"]; // keyed by id; the others are replaced whole

/// `onCommit(change)` is told of every committed change (`{carts: {id: cart}, …}`), e.g. to stream it.
export function openStore(file, initial, { onCommit } = {}) {
  const state = initial;
  const journal = `${file}.journal`;
  if (file) {
    if (existsSync(file)) Object.assign(state, JSON.parse(readFileSync(file, "utf8")));
    if (existsSync(journal)) {
      for (const line of readFileSync(journal, "utf8").split("\n")) {
        let change;
        try { change = JSON.parse(line); } catch { break; } // the torn tail of a killed write
        for (const kind of ENTITIES) Object.assign(state[kind], change[kind]);
        for (const [kind, value] of Object.entries(change)) if (!ENTITIES.includes(kind)) state[kind] = value;
      }
    }
    writeFileSync(`${file}.tmp`, JSON.stringify(state));
    renameSync(`${file}.tmp`, file); // atomic: the old snapshot or the new one
    rmSync(journal, { force: true });
  }

  const dirty = new Map(); // kind → Set of ids (entities) or true (replaced whole)
  return {
    state,
    /// Marks an entity (`carts`/`payments` with its id) or a whole part (`jobs`, `stock`) changed.
    changed(kind, id) {
      if (ENTITIES.includes(kind)) (dirty.get(kind) ?? dirty.set(kind, new Set()).get(kind)).add(id);
      else dirty.set(kind, true);
    },
    /// Writes what changed since the last commit as one journal line.
    commit() {
      if (!dirty.size) return;
      const change = {};
      for (const [kind, ids] of dirty) {
        change[kind] = ids === true ? state[kind] : Object.fromEntries([...ids].map((id) => [id, state[kind][id]]));
      }
      dirty.clear();
      if (file) appendFileSync(journal, `${JSON.stringify(change)}\n`);
      onCommit?.(change);
    },
  };
}
