"""The import rules between dashboard's layers, read from the source with ``ast``.

Data flows one way (request or socket event → view/handler → service → models), so:

- models import no services, views, api or realtime;
- services import no views, api or realtime, and never touch ``flask.request``;
- ``dashboard/realtime/`` is the only place that emits Socket.IO events.

Every import counts, including those inside functions and ``TYPE_CHECKING`` blocks: a
function-level import is how a cycle hides, not a way out of the rule.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dashboard"

# (layer whose modules are checked, packages that layer must not import)
FORBIDDEN_IMPORTS = {
    "dashboard.models": (
        "dashboard.services",
        "dashboard.views",
        "dashboard.api",
        "dashboard.realtime",
    ),
    "dashboard.services": ("dashboard.views", "dashboard.api", "dashboard.realtime"),
    # The port services announce through sits below them all: it imports nothing of the app.
    "dashboard.events": ("dashboard",),
    # The emitter hears the services through the port; importing one was the old cycle.
    "dashboard.realtime.broadcast": ("dashboard.services",),
}
# Request-bound names a service must not read: it gets what it needs as arguments.
FORBIDDEN_FLASK_NAMES = {"dashboard.services": ("request",)}
EMITTER = "dashboard.realtime"

# Edges tolerated while they are being removed: (module, imported module). It may only shrink:
# a new violation fails, and so does an entry here that no longer occurs. It held the seven
# services -> realtime.broadcast imports until services announced through dashboard/events.py;
# it is empty now, so every rule holds in every file.
ALLOWED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Violation:
    module: str
    target: str
    line: int

    @property
    def edge(self) -> tuple[str, str]:
        return (self.module, self.target)


def module_name(path: Path, root: Path = ROOT) -> str:
    """``dashboard/services/threads.py`` → ``dashboard.services.threads``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    """Whether ``name`` is a module or package of this tree (``dashboard.realtime.broadcast``)."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    """Every module an import statement in ``tree`` loads, with its line.

    ``from X import a`` names ``X.a`` when ``a`` is a submodule, else ``X``.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.append((sub if is_module(sub) else source, node.lineno))
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def import_violations(source: str, module: str, is_package: bool = False) -> list[Violation]:
    """The forbidden imports and request reads in one module's source, one per target."""
    tree = ast.parse(source)
    out: dict[str, Violation] = {}
    for layer, forbidden in FORBIDDEN_IMPORTS.items():
        if not _within(module, layer):
            continue
        for name, line in imported_modules(tree, module, is_package):
            if any(_within(name, p) for p in forbidden):
                out.setdefault(name, Violation(module, name, line))
    for layer, names in FORBIDDEN_FLASK_NAMES.items():
        if not _within(module, layer):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask" and not node.level:
                for a in node.names:
                    if a.name in names:
                        out.setdefault(
                            f"flask.{a.name}", Violation(module, f"flask.{a.name}", node.lineno)
                        )
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "flask"
                and node.attr in names
            ):
                out.setdefault(
                    f"flask.{node.attr}", Violation(module, f"flask.{node.attr}", node.lineno)
                )
    return sorted(out.values(), key=lambda v: v.line)


def emit_violations(source: str, module: str) -> list[Violation]:
    """Socket.IO emits (``emit(…)``, ``x.emit(…)``, ``x.send(…)`` on socketio) outside realtime."""
    if _within(module, EMITTER):
        return []
    out: list[Violation] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flask_socketio"):
            out.extend(
                Violation(module, f"flask_socketio.{a.name}", node.lineno)
                for a in node.names
                if a.name in ("emit", "send")
            )
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        receiver = getattr(getattr(func, "value", None), "id", None)
        if called == "emit" or (called == "send" and receiver == "socketio"):
            out.append(Violation(module, "emit()", node.lineno))
    return out


def scan() -> list[Violation]:
    """Every violation under dashboard/."""
    out: list[Violation] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        module = module_name(path)
        out += import_violations(source, module, is_package=path.name == "__init__.py")
        out += emit_violations(source, module)
    return out


def _describe(violations: list[Violation]) -> str:
    return "\n".join(f"  {v.module}:{v.line} -> {v.target}" for v in violations)


def test_the_scan_reads_every_layer():
    """The rules are checked against real modules, not an empty tree."""
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    for layer in ("dashboard.models", "dashboard.services", "dashboard.realtime"):
        assert sum(_within(m, layer) for m in modules) >= 2, layer


def test_no_new_layer_violation():
    """No model, service or non-realtime module breaks the rules beyond the allow-list."""
    found = scan()
    new = [v for v in found if v.edge not in ALLOWED]
    assert not new, "imports against the layer rules:\n" + _describe(new)


def test_allow_list_only_shrinks():
    """An allow-listed edge that is gone must be deleted from ALLOWED, so it cannot return."""
    stale = ALLOWED - {v.edge for v in scan()}
    assert not stale, f"delete these from ALLOWED in {Path(__file__).name}: {sorted(stale)}"


@pytest.mark.parametrize(
    ("module", "source", "target"),
    [
        ("dashboard.models.users", "from ..services import audit\n", "dashboard.services.audit"),
        ("dashboard.models.users", "from dashboard.views import x\n", "dashboard.views"),
        ("dashboard.models.users", "def f():\n    from ..realtime import b\n",
         "dashboard.realtime"),
        ("dashboard.services.threads", "from ..realtime import broadcast\n",
         "dashboard.realtime.broadcast"),
        ("dashboard.services.threads", "from .. import api\n", "dashboard.api"),
        ("dashboard.services.search.x", "from ...views import search\n",
         "dashboard.views.search"),
        ("dashboard.services.threads", "import dashboard.realtime.chat\n",
         "dashboard.realtime.chat"),
        ("dashboard.services.threads", "from flask import request\n", "flask.request"),
        ("dashboard.services.threads", "import flask\nflask.request.args\n", "flask.request"),
        ("dashboard.events", "from .models import User\n", "dashboard.models"),
        ("dashboard.realtime.broadcast", "from ..services import presence\n",
         "dashboard.services.presence"),
    ],
)  # fmt: skip
def test_import_rules_catch(module, source, target):
    """Each rule reports a violation written in any import form."""
    assert target in {v.target for v in import_violations(source, module)}


@pytest.mark.parametrize(
    "source",
    [
        "from ..extensions import socketio\nsocketio.emit('x', {})\n",
        "from flask_socketio import emit\n",
        "def f():\n    emit('x')\n",
        "socketio.send('x')\n",
    ],
)
def test_emit_rule_catches(source):
    """An emit outside dashboard/realtime is reported; inside it is the rule's point."""
    assert emit_violations(source, "dashboard.services.messages")
    assert not emit_violations(source, "dashboard.realtime.broadcast")


def test_allowed_imports_pass():
    """Downward imports and flask names other than request are fine."""
    source = (
        "from ..extensions import db\nfrom ..models import User\nfrom . import audit\n"
        "from flask import current_app\n"
    )
    assert import_violations(source, "dashboard.services.threads") == []
    assert import_violations("from .base import Base\n", "dashboard.models.users") == []


# `# type: ignore` comments in dashboard/ when mypy came to CI was 16; they only go down.
# Lower this when you remove one; an added one fails here (fix the type instead).
MAX_TYPE_IGNORES = 4


def test_type_ignores_only_go_down():
    """mypy's escape hatch is not used more than it was: every new def is typed for real."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "# type: ignore" in line
    ]
    assert len(found) <= MAX_TYPE_IGNORES, "new '# type: ignore' comments:\n" + "\n".join(found)


def test_every_package_says_what_it_may_import():
    """Each package under dashboard/ opens with a docstring on what lives there and its imports."""
    silent = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        if len(doc.splitlines()) < 2 or "import" not in doc.lower():
            silent.append(str(init.relative_to(ROOT)))
    assert not silent, f"packages whose docstring does not say what they may import: {silent}"
