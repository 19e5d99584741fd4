"""Strict JSON for what clients send (socket frames, HTTP bodies): no NaN or Infinity, no
NUL, no lone surrogate in any string or key, nesting at most MAX_DEPTH deep.

Python's json accepts all of those: `Infinity` became a float that int() refused deep in
a service, a lone surrogate failed only when psycopg encoded it, NUL only when PostgreSQL
refused the text, and 50,000 nested brackets raised RecursionError. Each was a 500 or a
dead socket; refused here, each is one clear 400 or `error` frame. Pure Python, no schema.
"""

import json

MAX_DEPTH = 32


class StrictJsonError(ValueError):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _no_constant(name):
    raise StrictJsonError("bad_json", f"{name} is not a JSON number.")


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise StrictJsonError("bad_text", "Text may not contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise StrictJsonError("bad_text", "Text may not contain lone surrogates.") from None


def loads_strict(text: str, *, max_depth: int = MAX_DEPTH):
    """Parse and check; raises StrictJsonError (code `bad_json`, `too_deep`, `bad_text`)."""
    if _bracket_depth(text) > max_depth:
        raise StrictJsonError("too_deep", f"JSON may nest at most {max_depth} levels.")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except StrictJsonError:
        raise
    except (ValueError, RecursionError):
        raise StrictJsonError("bad_json", "The body is not valid JSON.") from None
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_text(key)
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
    return value


def _bracket_depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings, without recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
