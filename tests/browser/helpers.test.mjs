// The storefront module's pure helpers, in Node (the browser suite covers the rest).
import { test } from "node:test";
import assert from "node:assert/strict";
import { syncState, isConfirmationRedirect, withoutRedirectParams } from "../../storefront/kustom-checkout.js";

test("syncing while the pending hash differs from the synced one; a refused cart names its code", () => {
  const cart = (fields) => ({ cartId: "c", fields });
  assert.deepEqual(syncState(cart({})), { syncing: false, unsyncable: null, pending: null, synced: null });
  assert.equal(syncState(cart({ kustomSyncHash: "a" })).syncing, false, "no pending hash: nothing to wait for");
  assert.equal(syncState(cart({ kustomPendingHash: "a", kustomSyncHash: "a" })).syncing, false);
  assert.equal(syncState(cart({ kustomPendingHash: "b", kustomSyncHash: "a" })).syncing, true);
  assert.equal(syncState(cart({ kustomPendingHash: "b" })).syncing, true, "pending before any sync");
  assert.deepEqual(syncState(cart({ kustomPendingHash: "unsyncable:TOTALS_MISMATCH", kustomSyncHash: "a" })),
    { syncing: true, unsyncable: "TOTALS_MISMATCH", pending: "unsyncable:TOTALS_MISMATCH", synced: "a" });
});

test("Kustom's redirect back is recognised for this cart only, and its parameters are cleaned", () => {
  const back = "https://shop.example/checkout?redirect_status=succeeded&cart=c1&checkout=kustom&lang=sv";
  assert.equal(isConfirmationRedirect(back, "c1"), true);
  assert.equal(isConfirmationRedirect(back, "c2"), false, "another cart's redirect");
  assert.equal(isConfirmationRedirect("https://shop.example/checkout?redirect_status=succeeded", "c1"), true, "no cart named");
  assert.equal(isConfirmationRedirect("https://shop.example/checkout?redirect_status=failed&cart=c1", "c1"), false);
  assert.equal(withoutRedirectParams(back), "https://shop.example/checkout?lang=sv", "the shop's own parameters stay");
});
