"""An OpenAPI-driven fuzz of the API (schemathesis): no input makes the server answer 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from .tokens import bearer

EXAMPLES = 150


def test_no_input_makes_a_5xx(app, factory):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show up as a 500, not a raise
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    msg = factory.message(thread, bob, "hello")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = bearer(alice)
    real_ids = {"thread_id": thread.id, "message_id": msg.id, "user_id": bob.id}
    strategy = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE),
        schema.as_strategy(GenerationMode.NEGATIVE),
        schema.as_strategy(GenerationMode.POSITIVE, path_parameters=real_ids),
        schema.as_strategy(GenerationMode.NEGATIVE, path_parameters=real_ids),
    )
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):  # type: ignore[no-untyped-def]
        resp = case.call(headers=headers)
        if resp.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} -> {resp.status_code}: "
                f"{case.as_curl_command()}"
            )

    check()
    assert failures == []
