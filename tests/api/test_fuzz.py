"""An OpenAPI-driven fuzz of the API (schemathesis), authenticated, on each backend.

Every response is validated against the document: no 5xx, a documented status code and
content type, and a body that matches the documented schema (the generated components).
"""

from __future__ import annotations

import re
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .tokens import bearer

PER_OPERATION = 20  # about 360 cases per backend in all
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Not `negative_data_rejection`: query parameters are read leniently on purpose (a repeated
# `userIds` uses its first value), which that check reports as accepting invalid requests.


def test_every_response_matches_the_document(app, factory, backend):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show up as a 500, not a raise
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    msg = factory.message(thread, bob, "hello")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = bearer(alice)
    real_ids = {"thread_id": thread.id, "message_id": msg.id, "user_id": bob.id}
    failures: list[str] = []
    cases: Counter[str] = Counter()
    statuses: Counter[int] = Counter()

    def check(case):  # type: ignore[no-untyped-def]
        cases[f"{case.method} {case.operation.path}"] += 1
        try:
            resp = case.call_and_validate(headers=headers, checks=CHECKS)
        except (AssertionError, FailureGroup) as exc:
            failures.append(f"{case.method} {case.formatted_path}: {exc}\n{case.as_curl_command()}")
        else:
            statuses[resp.status_code] += 1

    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/openapi.json":
            continue
        names = re.findall(r"\{([^}]+)\}", operation.path)
        ids = {n: real_ids[n] for n in names if n in real_ids}
        strategies = [
            operation.as_strategy(mode, **({"path_parameters": ids} if with_ids else {}))
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for with_ids in ((False, True) if ids else (False,))
        ]
        run = settings(
            max_examples=PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(given(case=st.one_of(strategies))(check))
        run()

    seen = dict(sorted(statuses.items()))
    print(f"\n[api fuzz {backend}] {sum(cases.values())} cases; statuses {seen}")
    for op, n in sorted(cases.items()):
        print(f"  {n:4d}  {op}")
    assert failures == [], "\n\n".join(failures[:5])
    assert app.test_client().get("/healthz").status_code == 200
