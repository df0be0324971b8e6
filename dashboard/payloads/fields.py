"""Field types shared by the request models: clean text, ids, metadata, configurable bounds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from . import strict_json
from .limits import CLIENT_ID_MAX, ID_MAX, METADATA_DEPTH, METADATA_MAX


def _clean(value: str) -> str:
    """Text without NUL or lone surrogates (the same rule as strict_json, for Python callers)."""
    try:
        return strict_json.check_text(value)
    except strict_json.StrictJSONError as exc:
        raise PydanticCustomError(exc.reason, str(exc)) from None


def depth(value: Any) -> int:
    """How deeply containers nest in `value` ({} is 1, {"a": []} is 2); no recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    if depth(value) > METADATA_DEPTH:
        raise PydanticCustomError(
            "too_deep", "nested at most {limit} levels", {"limit": METADATA_DEPTH}
        )
    if strict_json.bad_string(value) is not None:
        raise PydanticCustomError("invalid_text", "text must be valid Unicode without NUL")
    if len(json.dumps(value, ensure_ascii=False)) > METADATA_MAX:
        raise PydanticCustomError("too_large", "at most {limit} bytes", {"limit": METADATA_MAX})
    return value


@dataclass(frozen=True)
class ConfigLimit:
    """Bound a string's length or a list's size by one of the app's `Limits`.

    The bound is read at validation time from the context (`{"limits": Limits}`), and shown
    in the JSON schema as `x-limit`, which the OpenAPI document replaces with the configured
    number. `strip` measures a string without its surrounding blanks (titles are stored so).
    """

    name: str
    strip: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        js = dict(handler(schema))
        js["x-limit"] = self.name
        return js

    def _check(self, value: Any, info: core_schema.ValidationInfo) -> Any:
        limits = (info.context or {}).get("limits")
        if limits is None:
            return value
        bound = getattr(limits, self.name)
        text = isinstance(value, str)
        size = len(value.strip() if text and self.strip else value)
        if size > bound:
            unit = "characters" if text else "items"
            raise PydanticCustomError("too_long", f"at most {{limit}} {unit}", {"limit": bound})
        return value


Text = Annotated[str, AfterValidator(_clean)]
Id = Annotated[Text, Field(min_length=1, max_length=ID_MAX)]
ClientId = Annotated[Text, Field(min_length=1, max_length=CLIENT_ID_MAX)]
Metadata = Annotated[
    dict[str, Any],
    AfterValidator(_check_metadata),
    Field(
        description=f"any JSON object, nested at most {METADATA_DEPTH} levels, "
        f"at most {METADATA_MAX} bytes"
    ),
]
