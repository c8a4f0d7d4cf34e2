"""Checks every request the app makes Kustom receive, and every answer it gives Kustom's
validation callback, in the fixture suite against Kustom's official OpenAPI descriptions
(../shared/specs/), plus the arithmetic rules a schema cannot say (Kustom API reference §2.8).

The fixtures' expected outputs are exactly what the components emit, natively and as wasm, so
this covers the create, update and capture bodies of every fixture case.

Usage: python3 tests/spec/check_requests.py   (needs pyyaml and openapi-schema-validator)
"""
import copy, glob, json, os, re, sys

import yaml
from openapi_schema_validator import OAS30WriteValidator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECS = os.path.join(os.path.dirname(ROOT), "shared", "specs")


def load(name):
    with open(os.path.join(SPECS, name), encoding="utf-8") as f:
        return yaml.safe_load(f)


checkout, callbacks, om = load("kustom-checkout-api-openapi.yml"), load("kustom-checkout-callback-api-openapi.yml"), load("order-management-api-openapi.yml")


def validator(spec, schema_name, partial=False):
    schema = copy.deepcopy(spec["components"]["schemas"][schema_name])
    if partial:  # an update sends only what changes (Kustom: "properties not sent keep their values")
        schema.pop("required", None)
    schema["components"] = spec["components"]
    return OAS30WriteValidator(schema)


CREATE, UPDATE = validator(checkout, "order"), validator(checkout, "order", partial=True)
CAPTURE = validator(om, "CaptureObject")
REFUND = validator(om, "RefundObject")
SHIPPING_INFO = validator(om, "UpdateShippingInfo")
MERCHANT_REFERENCES = validator(om, "Update merchant references")
CALLBACK_ERROR = validator(callbacks, "shipping_service_error_response")
ERROR_TYPES = {"address_error", "unsupported_shipping_address", "approval_failed"}


def arithmetic(body):
    """Kustom's rules: per line total = q × unit − discount and tax within 1 of the formula;
    order totals are the line sums (the sales-tax line carries the tax of tax-exclusive carts)."""
    problems = []
    lines = body.get("order_lines", [])
    for i, l in enumerate(lines):
        if l["total_amount"] != l["quantity"] * l["unit_price"] - l.get("total_discount_amount", 0):
            problems.append(f"order_lines[{i}].total_amount")
        rate, total = l["tax_rate"], l["total_amount"]
        expected = 0 if rate == 0 else total - total * 10000 / (10000 + rate)
        if abs(l["total_tax_amount"] - expected) > 1:
            problems.append(f"order_lines[{i}].total_tax_amount {l['total_tax_amount']} vs {expected:.2f}")
        if l.get("total_discount_amount", 0) < 0 or l["quantity"] < 0:
            problems.append(f"order_lines[{i}] negative discount or quantity")
    if "order_amount" in body and body["order_amount"] != sum(l["total_amount"] for l in lines):
        problems.append("order_amount ≠ Σ total_amount")
    tax = sum(l["total_amount"] if l.get("type") == "sales_tax" else l["total_tax_amount"] for l in lines)
    if "order_tax_amount" in body and body["order_tax_amount"] != tax:
        problems.append("order_tax_amount ≠ Σ total_tax_amount")
    return problems


def check_call(call):
    """(what, problems) for one http call, or None when it carries no body to check."""
    if call.get("call") != "http" or call.get("body") is None:
        return None
    path, method = re.sub(r"^https?://[^/]+", "", call["url"]), call["method"]
    if method == "POST" and path == "/checkout/v3/orders":
        validator_, what = CREATE, "checkout create"
    elif method == "POST" and re.fullmatch(r"/checkout/v3/orders/[^/]+", path):
        validator_, what = UPDATE, "checkout update"
    elif method == "POST" and path.endswith("/captures"):
        validator_, what = CAPTURE, "capture"
    elif method == "POST" and path.endswith("/refunds"):
        validator_, what = REFUND, "refund"
    elif method == "POST" and path.endswith("/shipping-info"):
        validator_, what = SHIPPING_INFO, "shipping info"
    elif method == "PATCH" and path.endswith("/merchant-references"):
        validator_, what = MERCHANT_REFERENCES, "merchant references"
    else:
        return (f"{method} {path}", [f"no schema known for a body sent to {method} {path}"])
    problems = [f"{'.'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in validator_.iter_errors(call["body"])]
    if what.startswith("checkout") and not problems:  # the sums need the schema's types
        problems += arithmetic(call["body"])
    return (what, problems)


def main():
    passed, failed = 0, 0
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "**", "*.json"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            expected = json.load(f)["expected"] or {}
        name = os.path.relpath(path, ROOT)
        results = [check_call(c) for c in expected.get("calls", [])]
        response = expected.get("response")
        if "/ingresses/validate/" in path and response and response["statusCode"] == 400:
            content = response["content"]
            problems = [e.message for e in CALLBACK_ERROR.iter_errors(content)]
            if content.get("error_type") not in ERROR_TYPES:
                problems.append(f"error_type {content.get('error_type')!r} is not one Kustom accepts")
            results.append(("validation rejection", problems))
        for result in filter(None, results):
            what, problems = result
            if problems:
                failed += 1
                print(f"FAIL {name}: {what}:\n  " + "\n  ".join(problems))
            else:
                passed += 1
    print(f"spec: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
