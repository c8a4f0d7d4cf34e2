// What a simulated run does, drawn from its seed: a list of shopper sessions, each a list of
// events (sim.mjs runs them). Each session draws from its own generator (seed, index), so that
// dropping a session while shrinking leaves the others as they were.

import { rng } from "../support/rng.mjs";

const PRODUCTS = ["TS-RED-M", "BOOK-9789100123", "MUG-1"];
/// Kustom misbehaving on this session's order ({id}): what a real one can do.
const FAULTS = [
  { method: "POST", path: "/checkout/v3/orders/{id}", status: 503 },
  { method: "POST", path: "/checkout/v3/orders/{id}", drop: true },
  { method: "GET", path: "/checkout/v3/orders/{id}", status: 503 },
  { method: "GET", path: "/ordermanagement/v1/orders/{id}", status: 503 },
  { method: "POST", path: "/ordermanagement/v1/orders/{id}/acknowledge", status: 500 },
  { method: "POST", path: "/ordermanagement/v1/orders/{id}/captures", drop: true },
  { method: "POST", path: "/ordermanagement/v1/orders/{id}/captures", status: 503 },
  { method: "POST", path: "/ordermanagement/v1/orders/{id}/refunds", drop: true },
  { method: "POST", path: "/ordermanagement/v1/orders/{id}/captures", delay_ms: 2500 }, // past the host's 2 s: a timeout, applied
];

/// The plan of a run: `{seed, concurrency, sessions: [{id, profile, events}]}`.
export function plan(seed, { sessions = 12, concurrency = 4 } = {}) {
  return { seed, concurrency, sessions: Array.from({ length: sessions }, (_, index) => session(seed, index)) };
}

function session(seed, index) {
  const random = rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const chance = (p) => random() < p;
  const pick = (list) => list[Math.floor(random() * list.length)];
  const between = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  const events = [];
  const change = () => pick([
    () => ({ type: "quantity", index: between(0, 3), quantity: between(1, 5) }),
    () => ({ type: "add", product: pick(PRODUCTS), quantity: between(1, 2) }),
    () => ({ type: "remove", index: between(0, 3) }),
    () => ({ type: "coupon", code: pick(["TENOFF", "TENOFF", "NOPE"]) }),
  ])();
  for (let n = between(1, 3); n > 0; n--) events.push({ type: "add", product: pick(PRODUCTS), quantity: between(1, 3) });
  if (chance(0.15)) events.push(change());
  events.push({ type: "checkout" });
  // The cart changes while the iframe is open; often with Kustom's next update slow, so that it
  // lands after the later ones (issue 26's session).
  if (chance(0.6)) {
    if (chance(0.6)) events.push({ type: "slowUpdate", ms: between(300, 1500) });
    for (let n = between(1, 3); n > 0; n--) { events.push(change()); events.push({ type: "pause", ms: between(50, 250) }); }
  }
  if (chance(0.3)) events.push({ type: "fault", fault: { ...pick(FAULTS), count: between(1, 2) } });
  if (chance(0.1)) events.push({ type: "crash" });
  if (chance(0.15)) events.push({ type: "checkout" }); // a reload
  const outcome = random();
  if (outcome < 0.15) return { id: index, profile: profile(random), events }; // abandoned
  if (outcome < 0.25) { // comes back after the order expired
    events.push({ type: "expire" }, { type: "checkout" });
  }
  events.push({ type: "wait", ms: 3000 });
  events.push({ type: "pay", fraud: chance(0.85) ? "ACCEPTED" : pick(["PENDING", "REJECTED"]), pushOff: chance(0.15), pushOffMs: between(500, 3000) });
  if (chance(0.1)) events.push({ type: "pay", fraud: "ACCEPTED" }); // pays twice
  if (chance(0.8)) events.push({ type: "confirm" }); // else the tab was closed: the push (or the watchdog) completes it
  if (chance(0.1)) events.push({ type: "confirm" }); // a reload of the thank-you page
  if (chance(0.1)) events.push({ type: "crash" });
  events.push({ type: "fraudDecision", outcome: chance(0.8) ? "ACCEPTED" : "REJECTED" });
  events.push({ type: "wait", ms: 3000 });
  // The merchant: deliveries captured (partly or fully), returns credited, cancellations.
  const after = random();
  if (after < 0.1) events.push({ type: "cancel" });
  else if (after < 0.8) {
    events.push({ type: "capture", fraction: chance(0.5) ? 1 : pick([0.3, 0.5]) });
    if (chance(0.4)) events.push({ type: "capture", fraction: 1 });
    events.push({ type: "wait", ms: 3000 });
    if (chance(0.4)) events.push({ type: "credit", fraction: pick([0.2, 0.5, 1]) });
    if (chance(0.3)) events.push({ type: "deliver" });
    if (chance(0.05)) events.push({ type: "cancel" });
  }
  return { id: index, profile: profile(random), events };
}

const profile = (random) => (random() < 0.75 ? "se" : "se-iframe");
