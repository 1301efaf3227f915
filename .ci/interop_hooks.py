"""Schemathesis hooks for `make interop` (loaded through SCHEMATHESIS_HOOKS by .ci/interop).

OpenAPI 3.1 follows JSON Schema, where 9 and 9.0 are the same integer, so Schemathesis (since
4.27) draws integer fields spelled as floats. The contract is stricter: an Int32 property must be
an integer literal, because a .NET client (System.Text.Json) cannot read 9.0, and the reference
service refuses such a request with 400. JSON Schema cannot say "an integer literal", so the
export cannot either; this hook writes whole floats in request bodies as integers, and every
check stays on.
"""

import schemathesis


def _integers(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    return value


@schemathesis.hook
def map_body(context, body):
    return _integers(body)
