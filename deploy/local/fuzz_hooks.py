"""The check `just fuzz` adds to schemathesis's own (deploy/local/fuzz.sh runs it).

Schemathesis's `positive_data_acceptance` refuses every 4xx outside its list for a request the
document allows. The gateway may refuse such a request with 400 only for a rule a JSON Schema
cannot state; every other rule is in the document, so generated data already follows it. This
check accepts a 400 to a schema-valid request only when its message names one of those rules,
and fails the run on any other. (404, 409 and 422 need no such check: each status's body has
its family's documented codes as an enum in the document, which `response_schema_conformance`
enforces.)
"""

import re
from datetime import datetime, timezone

import schemathesis

# The 400 messages of rules the document cannot express, each with the reason.
INEXPRESSIBLE = [
    # The NUL character: no Postgres text can store it (the run also sets allow-x00 = false).
    re.compile(r"must not contain the \\u0000 character"),
    # An unpaired surrogate escape inside opaque JSON: JSON text, not a schema value.
    re.compile(r"must not contain an unpaired surrogate escape"),
    # A number inside opaque JSON written with more than 40 digits or a huge exponent: the
    # schema sees the value, not how many characters it took.
    re.compile(r"must not contain a number with more than \d+ digits"),
    # Byte caps of opaque JSON (`metadata` 16 KiB, `state` 64 KiB) count the text as sent.
    re.compile(r"must be at most \d+ KiB \(\d+ bytes\) of JSON"),
    # More than 18 decimal places of a JSON number: again how it is written, not its value.
    re.compile(r"must be within ±1e15 and have at most 18 decimal places"),
    # A cursor or page token is opaque: only one the API wrote is valid.
    re.compile(r"^\w+ is invalid$"),
    re.compile(r"^nextPageId is not a valid page token$"),
    # A signal's time rules are relative to the gateway's clock when it arrives.
    re.compile(r"^signal\.timestamp is in the future$"),
    re.compile(r"^signal is older than maxLag \(\d+ s\)$"),
    # The decimal places of a signal's amount or price: how it is written, not its value.
    re.compile(r"must be at most 1e15 with at most 18 decimal places$"),
    # The exchanges are the ledger's catalogue, which changes at run time: no enum can list them.
    re.compile(r"^exchangeId: unknown exchange '.*'$"),
]

# A time outside the years 1000–9999 (in UTC): refused with the malformed-time message, so the
# value is looked up and its year checked.
TIME_MESSAGE = re.compile(r"^(?P<path>[\w\[\].]+?) (?:is required and )?must be a valid ISO timestamp$")
YEAR = re.compile(r"^[+-]?(?P<year>\d{4,})-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?P<offset>Z|z|[+-]\d\d:\d\d)?$")


def message_of(response):
    """The Bot API's `error` or the partner envelope's `message`."""
    try:
        body = response.json()
    except Exception:
        return ""
    if not isinstance(body, dict):
        return ""
    return str(body.get("error") or body.get("message") or "")


def lookup(body, path):
    """The value at `transactions[0].filledAt` in a request body, or None."""
    value = body
    for name, index in re.findall(r"(\w+)|\[(\d+)\]", path):
        try:
            value = value[int(index)] if index else value[name]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def outside_four_digit_years(text):
    """Whether a well-formed RFC 3339 time falls outside the years 1000–9999 in UTC."""
    match = YEAR.match(text) if isinstance(text, str) else None
    if match is None:
        return False
    if not 1 <= int(match["year"]) <= 9999:
        return True
    # The fraction cannot move the year; Python reads at most six digits of it.
    plain = re.sub(r"\.\d+", "", text).replace("z", "Z")
    try:
        moment = datetime.fromisoformat(plain)
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        year = moment.astimezone(timezone.utc).year
    except OverflowError:  # past 9999-12-31 in UTC
        return True
    return not 1000 <= year <= 9999


@schemathesis.check
def refused_only_for_inexpressible_rules(ctx, response, case):
    """A 400 to a schema-valid request must name a rule the document cannot express."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    message = message_of(response)
    if any(rule.search(message) for rule in INEXPRESSIBLE):
        return None
    time = TIME_MESSAGE.match(message)
    if time and outside_four_digit_years(lookup(case.body, time["path"])):
        return None
    raise AssertionError(
        f"A request the OpenAPI document allows was refused with 400 ({message!r}): "
        "state the rule in the document, or accept the request"
    )
