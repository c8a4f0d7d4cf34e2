// A small, fast, well-distributed seeded generator (mulberry32) for the JS test suites:
// `rng(seed)()` is in [0, 1). The hostile-value tests and the simulation draw from it.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
