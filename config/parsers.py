"""The API's JSON parser (REST_FRAMEWORK DEFAULT_PARSER_CLASSES): realtime.strict_json, so
NaN/Infinity, NUL, lone surrogates and deep nesting are a 400 with `detail` and `code`
before any view reads the body. Runs in whatever schema the request is in."""

import codecs

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from realtime.strict_json import StrictJsonError, loads_strict


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except (UnicodeDecodeError, LookupError):
            raise ParseError({"detail": "The body is not valid UTF-8 JSON.", "code": "bad_json"}) from None
        try:
            return loads_strict(text)
        except StrictJsonError as exc:
            raise ParseError({"detail": exc.detail, "code": exc.code}) from None
