"""Hypothesis over every client→server event's payload on /chat (and connect auth).

Payloads mix the event's own keys (and real ids) with hostile values: NaN and Infinity,
numbers that overflow (1e999), deep nesting (up to thousands of levels, written as raw
JSON), lone surrogates and NUL, huge strings, wrong types and non-object payloads. Each is
sent as a raw Socket.IO packet through the Flask-SocketIO test client, so the server's own
packet decoder reads it. Every event must be answered, never with `internal_error`, and
the server must work normally afterwards.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.extensions import socketio
from dashboard.payloads.requests import SOCKET_EVENTS

from .conftest import events

PER_EVENT = 75
NS = "/chat"
KNOWN_CODES = {"validation_failed", "not_found", "forbidden", "thread_archived", "conflict"}


class Raw:
    """JSON text placed into the payload verbatim (what json.dumps cannot write)."""

    def __init__(self, text: str):
        self.text = text


def render(value: Any) -> str:
    """`value` as JSON text, NaN/Infinity as Python writes them, Raw pieces verbatim."""
    raws: list[str] = []

    def swap(v: Any) -> Any:
        if isinstance(v, Raw):
            raws.append(v.text)
            return f"@@RAW{len(raws) - 1}@@"
        if isinstance(v, dict):
            return {k: swap(x) for k, x in v.items()}
        if isinstance(v, list):
            return [swap(x) for x in v]
        return v

    text = json.dumps(swap(value))
    for i, raw in enumerate(raws):
        text = text.replace(f'"@@RAW{i}@@"', raw)
    return text


surrogates = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
hostile_text = st.one_of(
    st.text(max_size=50),
    st.text(st.characters(codec=None), max_size=20).map(lambda s: s + "\x00"),
    st.builds(lambda a, s: a + s, st.text(max_size=10), surrogates),
    st.integers(10_000, 400_000).map(lambda n: "x" * n),
)
deep = st.integers(10, 5000).flatmap(
    lambda n: st.sampled_from([Raw("[" * n + "]" * n), Raw('{"a":' * n + "1" + "}" * n)])
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.sampled_from([Raw("1e999"), Raw("-1e999"), Raw("1" + "0" * 5000), Raw("-0")]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, hostile_text)
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=20,
)
values = st.one_of(scalars, nested, deep)


def payloads(keys: list[str], ids: dict[str, str]) -> st.SearchStrategy[Any]:
    """Objects with the event's keys (real ids among the choices) plus stray keys."""
    real = st.sampled_from(sorted(set(ids.values())))
    # Often well-formed, so that the services run too, not only the boundary.
    field = st.one_of(real, real, real, st.text(max_size=30), values)
    metadata = st.one_of(st.just({}), st.dictionaries(st.text(max_size=5), nested), values)
    objects = st.fixed_dictionaries(
        {}, optional={k: field for k in keys} | {"metadata": metadata, "attachments": values}
    ).flatmap(lambda d: strays.map(lambda extra: extra | d))
    clean = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)

    def plain(key: str) -> st.SearchStrategy[Any]:
        if key == "limit":
            return st.integers(0, 600)
        if key == "since":
            return st.sampled_from(["2020-01-01T00:00:00Z", "not a time", ""])
        if key == "userIds":
            return st.lists(st.one_of(real, clean), max_size=5)
        if key in ids:
            return st.one_of(st.just(ids[key]), st.just(ids[key]), real, clean)
        return clean

    simple = [k for k in keys if k not in ("metadata", "attachments")]
    well_formed = st.fixed_dictionaries(
        {k: plain(k) for k in simple},
        optional={"metadata": st.dictionaries(clean, clean, max_size=3)},
    )
    one_hostile = st.tuples(well_formed, st.sampled_from(keys), values).map(
        lambda t: t[0] | {t[1]: t[2]}
    )
    return st.one_of(well_formed, one_hostile, objects, values, st.lists(values, max_size=3))


strays = st.one_of(st.just({}), st.dictionaries(hostile_text, values, max_size=2))


def emit_raw(sock: Any, event: str, text: str) -> Any:
    sock.callback_counter += 1
    packet = f'2{NS},{sock.callback_counter}["{event}",{text}]'
    sock.socketio.server._handle_eio_message(sock.eio_sid, packet)
    ack, sock.acks = sock.acks, None
    return None if ack is None else ack["args"][0]


def test_every_event_answers_every_payload_and_the_server_stays_healthy(
    app, factory, socket_client, backend
):
    alice, bob = factory.user(), factory.user()
    thread = factory.thread(alice, [bob])
    msg = factory.message(thread, alice, "mine")
    a, b = socket_client(alice), socket_client(bob)
    ids = {"threadId": thread.id, "messageId": msg.id, "userId": bob.id, "clientId": "c-1"}
    cases: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    problems: list[str] = []

    def run(event: str, keys: list[str]) -> None:
        @settings(
            max_examples=PER_EVENT,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(payload=payloads(keys, ids))
        def fuzz(payload: Any) -> None:
            cases[event] += 1
            text = render(payload)
            ack = emit_raw(a, event, text)
            if not isinstance(ack, dict) or not isinstance(ack.get("ok"), bool):
                problems.append(f"{event} {text[:200]!r}: no proper ack: {ack!r}"[:400])
                return
            if ack["ok"]:
                outcomes["ok"] += 1
                return
            code = ack["error"]["code"]
            outcomes[code] += 1
            if code not in KNOWN_CODES:
                problems.append(f"{event} {text[:200]!r}: {ack['error']}"[:400])

        fuzz()

    for event, model in SOCKET_EVENTS[NS].items():
        run(event, [f.alias or name for name, f in model.model_fields.items()])

    # Hostile connect payloads (auth), as raw CONNECT packets: refused, never a crash.
    probe = socketio.test_client(app, namespace="/live")

    # (The protocol's CONNECT payload is an object; a bare number would be read as an id.)
    deep_objects = st.integers(10, 5000).map(lambda n: Raw('{"a":' * n + "1" + "}" * n))
    auths = st.one_of(
        st.fixed_dictionaries({"token": values}),
        st.dictionaries(hostile_text, values, max_size=3),
        deep_objects,
    )

    @settings(max_examples=PER_EVENT, deadline=None, database=None)
    @given(auth=auths)
    def connect(auth: Any) -> None:
        cases["connect"] += 1
        for ns in ("/chat", "/live"):
            probe.connected[ns] = True
            probe.socketio.server._handle_eio_message(probe.eio_sid, f"0{ns},{render(auth)}")
            if probe.connected[ns]:
                problems.append(f"connect {ns} accepted auth {render(auth)[:200]!r}")
                probe.disconnect(namespace=ns)

    connect()

    print(f"\n[socket fuzz {backend}] {sum(cases.values())} cases; acks {dict(outcomes)}")
    for event, n in cases.items():
        print(f"  {n:4d}  {event}")
    assert problems == [], "\n".join(problems[:10])
    # Healthy afterwards: a normal send is stored, broadcast and synced.
    assert a.is_connected(NS) and b.is_connected(NS)
    b.get_received(NS)
    sent = a.emit(
        "message:send",
        {"clientId": "after-fuzz", "threadId": thread.id, "content": "still here"},
        namespace=NS,
        callback=True,
    )
    assert sent["ok"] is True, sent
    assert sent["message"]["id"] in [m["id"] for m in events(b, "message:new")]
    sync = b.emit("sync", {"since": "2020-01-01T00:00:00Z"}, namespace=NS, callback=True)
    assert sync["ok"] is True
    assert app.test_client().get("/healthz").status_code == 200
