#!/usr/bin/env node
// Command line for the Kustom API emulator: `node emulator/server.mjs --port 8787 --api-key kco_test_api_emulator`.
// The first stdout line is `listening on http://127.0.0.1:<port>` so that scripts can read the port.
import { startEmulator, DEFAULTS } from './emulator.mjs';
import { readFlags } from './flags.mjs';

const list = (s) => s.split(',').map(Number);
const FLAGS = { // flag → [option, parser]
  'port': ['port', Number], 'api-key': ['apiKey', String], 'username': ['username', String],
  'time-scale': ['timeScale', Number], 'push-delay-seconds': ['pushDelaySeconds', Number],
  'push-retry-minutes': ['pushRetryMinutes', list], 'push-repeat-minutes': ['pushRepeatMinutes', Number],
  'push-window-hours': ['pushWindowHours', Number], 'checkout-lifetime-hours': ['checkoutLifetimeHours', Number],
  'authorization-days': ['authorizationDays', Number], 'max-authorization-days': ['maxAuthorizationDays', Number],
  'idempotency-hours': ['idempotencyHours', Number], 'order-tax-tolerance': ['orderTaxTolerance', Number],
  'min-callback-timeout-ms': ['minCallbackTimeoutMs', Number], 'request-log-limit': ['requestLogLimit', Number],
};
const usage = `usage: node emulator/server.mjs [options]\n${Object.entries(FLAGS)
  .map(([flag, [key]]) => `  --${flag.padEnd(24)} default ${JSON.stringify(DEFAULTS[key])}`).join('\n')}\n  --api-key may be repeated; see emulator/README.md`;
const options = readFlags(FLAGS, usage, { repeated: ['api-key'] });

const emulator = await startEmulator(options);
console.log(`listening on ${emulator.url}`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => emulator.close().then(() => process.exit(0)));
}
