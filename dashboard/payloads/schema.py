"""OpenAPI components generated from the request models and the response shapes.

The configurable bounds appear in the models as `x-limit` markers; `components(limits)`
writes the app's numbers in their place, so the document states what the code enforces.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from .limits import Limits
from .requests import API_BODIES
from .responses import RESPONSES

REF = "#/components/schemas/{model}"


class _Schema(GenerateJsonSchema):
    """JSON Schema 2020-12 (OpenAPI 3.1's dialect) without pydantic's generated titles."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _write_limits(node: Any, limits: Limits) -> None:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            name = item.pop("x-limit", None)
            if name is not None:
                key = "maxItems" if item.get("type") == "array" else "maxLength"
                item[key] = getattr(limits, name)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


@lru_cache(maxsize=8)
def _components(limits: Limits) -> dict[str, Any]:
    mode: JsonSchemaMode = "validation"
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (m, mode) for m in (*API_BODIES.values(), *RESPONSES)
    ]
    _, top = models_json_schema(models, ref_template=REF, schema_generator=_Schema)
    schemas: dict[str, Any] = top["$defs"]
    _write_limits(schemas, limits)
    return schemas


def components(limits: Limits) -> dict[str, Any]:
    """`components.schemas` for these limits: every request body and response shape."""
    return copy.deepcopy(_components(limits))
