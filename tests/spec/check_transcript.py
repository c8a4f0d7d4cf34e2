"""Checks transcripts of sessions with the Kustom emulator against Kustom's official OpenAPI
descriptions (../shared/specs/): every request body the client sent, with the write validator
against the schema the spec declares for that path and method, plus the arithmetic of Kustom API
reference §2.8 on checkout bodies; and every answer, with the read validator against the schema
the spec declares for that path, method and status (and the headers it declares, e.g.
Capture-Id). So the client is held to what Kustom accepts and the emulator to what Kustom answers.

A transcript is the JSON array served by the emulator's `GET /__emulator/requests`.

Usage: python3 tests/spec/check_transcript.py FILE_OR_DIR...   (a directory: all *.json in it)
Exit 1 on any failure, or when nothing was checked.
"""
import copy, glob, json, os, re, sys

from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_requests import arithmetic, checkout, om  # noqa: E402  the loaded specs and the §2.8 rules


def repair(node):
    """The OM spec writes some enums as one string of alternatives, e.g. order_line.type's
    ["physical|discount|…|return_fee"], which no real value can match; its `pattern` beside it
    says what is meant. Split such enums into their alternatives (in place). It also has empty
    enums (`enum: [- ]`, read as [None]) on the integer prices of SelectedShippingOptionDto,
    Addon, Location and Timeslot, which no price can match either: drop those."""
    if isinstance(node, dict):
        enum = node.get("enum")
        if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str) and "|" in enum[0]:
            node["enum"] = enum[0].split("|")
        if enum == [None]:
            del node["enum"]
        for v in node.values():
            repair(v)
    elif isinstance(node, list):
        for v in node:
            repair(v)


SPECS = [copy.deepcopy(checkout), copy.deepcopy(om)]
for spec in SPECS:
    repair(spec["components"])

# §7.1: Checkout and OM errors share one shape. The spec declares it for some OM answers only;
# for the others (Checkout errors, 401, INVALID_ORDER_ID …) this is what a body must look like.
ERROR_SHAPE = {"type": "object", "required": ["error_code", "error_messages"], "properties": {
    "error_code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"},
    "error_messages": {"type": "array", "items": {"type": "string"}},
    "correlation_id": {"type": "string"}}}
ERROR_SHAPE_VALIDATOR = OAS30ReadValidator(ERROR_SHAPE)
# Required request fields where Kustom differs from the schema: an update sends only what changes
# ("properties not sent keep their values", §2.9); a create needs merchant_urls too (§2.2).
ORDER_REQUIRED = checkout["components"]["schemas"]["order"]["required"]
REQUIRED = {("POST", "/checkout/v3/orders"): ORDER_REQUIRED + ["merchant_urls"], ("POST", "/checkout/v3/orders/{order_id}"): []}
# Headers the spec promises in prose rather than in `headers` (checkout create: "the location of
# the newly created checkout order can be found in the location header").
PROSE_HEADERS = {("POST", "/checkout/v3/orders", "201"): ["Location"]}


def validator(cls, spec, schema, required=None):
    """A validator for schema (resolved within spec); `required` replaces the schema's own list."""
    if required is not None:
        schema = dict(spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema)
        schema["required"] = required
    return cls({**schema, "components": spec["components"]}, format_checker=oas30_format_checker)


def operations():
    """(method, template, regex, spec, operation) for every operation in the specs."""
    ops = []
    for spec in SPECS:
        for template, item in spec["paths"].items():
            regex = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")
            for method, op in item.items():
                if method.upper() in ("GET", "POST", "PATCH", "PUT", "DELETE"):
                    ops.append((method.upper(), template, regex, spec, op))
    return ops


OPERATIONS = operations()


def find(method, path):
    for m, template, regex, spec, op in OPERATIONS:
        if m == method and regex.match(path):
            return template, spec, op
    return None


def request_schema(spec, op):
    body = op.get("requestBody")
    if body and "$ref" in body:
        body = spec["components"]["requestBodies"][body["$ref"].rsplit("/", 1)[1]]
    content = (body or {}).get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    return media and media.get("schema")


def problems_of(v, instance):
    return [f"{'.'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in v.iter_errors(instance)]


def check_request(e, template, spec, op):
    """Problems with the body the client sent, or None when there is nothing to check."""
    method, body = e["method"], e.get("request_body")
    if "request_text" in e:
        return ["the request body is not JSON"]
    schema = request_schema(spec, op)
    if schema is None:
        return None if body in (None, {}) else ["a body was sent where the spec declares none"]
    if body is None:
        return ["no request body where the spec declares one"]
    problems = problems_of(validator(OAS30WriteValidator, spec, schema, REQUIRED.get((method, template))), body)
    if template.startswith("/checkout/") and not problems and ("order_lines" in body or template == "/checkout/v3/orders"):
        problems += arithmetic(body)  # the sums need the schema's types; an update without lines has none to check
    return problems


def check_response(e, template, spec, op):
    """Problems with what the emulator answered, or None when it is not Kustom's answer to check."""
    if e.get("dropped") or e.get("injected"):
        return None  # the client never saw it, or a fault answered instead of Kustom
    if "response_text" in e:
        return ["the response body is not JSON"]
    status, body, headers = str(e["status"]), e.get("response_body"), e.get("response_headers") or {}
    is_error = status.startswith(("4", "5"))
    shape = problems_of(ERROR_SHAPE_VALIDATOR, body) if is_error and body is not None else []
    declared = op.get("responses", {}).get(status) or op.get("responses", {}).get("default")
    if declared is None:  # an error Kustom documents elsewhere (§7.2) must still have the §7.1 shape
        return shape if is_error else [f"status {status} is not one the spec declares for {e['method']} {template}"]
    wanted = list(declared.get("headers", {})) + PROSE_HEADERS.get((e["method"], template, status), [])
    problems = [f"missing header {h}" for h in wanted if h not in headers]
    content = declared.get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    schema = media and media.get("schema")
    if body is None:
        # No content declared, a 204, or a bare string (refund 201: the id travels in headers, §6.1).
        if schema is None or status == "204" or schema.get("type") == "string":
            return problems
        return problems + ["empty body where the spec declares one"]
    if status == "204" or (schema is None and not is_error):
        return problems + ["a body where the spec declares none"]
    return problems + shape + (problems_of(validator(OAS30ReadValidator, spec, schema), body) if schema else [])


def check_entry(e):
    """[(what, problems or None when there is nothing to check)] for one logged call."""
    found = find(e["method"], e["path"])
    if found is None:
        return [("operation", [f"{e['method']} {e['path']} is no operation in Kustom's specs"])]
    return [("request body", check_request(e, *found)), ("response", check_response(e, *found))]


def transcripts(args):
    for arg in args:
        if os.path.isdir(arg):
            yield from sorted(glob.glob(os.path.join(arg, "**", "*.json"), recursive=True))
        else:
            yield arg


def main(args):
    if not args:
        print("usage: python3 tests/spec/check_transcript.py FILE_OR_DIR...", file=sys.stderr)
        sys.exit(2)
    passed = failed = skipped = 0
    for name in transcripts(args):
        try:
            with open(name, encoding="utf-8") as f:
                entries = json.load(f)
            if not isinstance(entries, list):
                raise ValueError("not a JSON array")
        except (OSError, ValueError) as err:
            failed += 1
            print(f"FAIL {name}: {err}")
            continue
        for i, e in enumerate(entries):
            for what, problems in check_entry(e):
                if problems is None:
                    skipped += 1
                elif problems:
                    failed += 1
                    print(f"FAIL {name}[{i}] {e['method']} {e['path']} {e['status']}: {what}:\n  " + "\n  ".join(problems))
                else:
                    passed += 1
    if skipped:
        print(f"({skipped} not checked: no body sent, or an answer the client never saw or a fault gave)")
    print(f"transcript: {passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
