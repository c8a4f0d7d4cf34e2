// Command-line flags for the emulator's and the reference host's servers, on Node's own
// `util.parseArgs`: `flags` maps a flag name (without `--`) to [option name, parser]; a parser
// of `Number` must give a finite number. `--help` prints the usage and exits 0; an unknown flag,
// a missing value or a bad number prints it and exits 2. `repeated` flags collect a list.
import { parseArgs } from 'node:util';

export function readFlags(flags, usage, { repeated = [] } = {}) {
  const exit = (code) => { (code ? console.error : console.log)(usage); process.exit(code); };
  let values;
  try {
    const options = Object.fromEntries(Object.keys(flags).map((name) => [name, { type: 'string', multiple: repeated.includes(name) }]));
    ({ values } = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch {
    exit(2);
  }
  if (values.help) exit(0);
  const result = {};
  for (const [name, raw] of Object.entries(values)) {
    const [option, parser] = flags[name];
    const value = Array.isArray(raw) ? raw.map(parser) : parser(raw);
    if ([value].flat().some((v) => typeof v === 'number' && !Number.isFinite(v))) exit(2);
    result[option] = value;
  }
  return result;
}
