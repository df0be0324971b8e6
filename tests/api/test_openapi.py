"""The OpenAPI document matches the code: the same paths and methods as the URL map."""

from __future__ import annotations

import re

IGNORED = {"HEAD", "OPTIONS"}


def _url_map_operations(app) -> set[tuple[str, str]]:
    ops = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1") :])
        for method in rule.methods - IGNORED:
            ops.add((path, method))
    return ops


def _document_operations(doc) -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in doc["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_document_and_url_map_agree_both_ways(client, app):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.")
    in_code = _url_map_operations(app)
    documented = _document_operations(doc)
    assert ("/search", "GET") in in_code
    assert in_code - documented == set(), "routes missing from the document"
    assert documented - in_code == set(), "documented routes with no code"


def test_documented_limits_follow_the_settings(client, app):
    app.config["MAX_PAGE_SIZE"] = 25
    doc = client.get("/api/v1/openapi.json").get_json()
    limit = next(p for p in doc["paths"]["/threads"]["get"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 25
