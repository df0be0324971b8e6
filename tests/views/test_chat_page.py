"""The /chat page: login required, renders the app shell for a user, strict-CSP friendly."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

CHAT_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "chat"
IMPORT = r'^import \{([^}]*)\} from "(\./[^"]+)";'
EXPORT = r"^export (?:async )?(?:function|class|const|let) (\w+)"


def test_chat_requires_login(client: FlaskClient) -> None:
    resp = client.get("/chat/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]
    assert "next=" in resp.headers["Location"]


def test_chat_renders_for_a_user(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    user = login_as("user")
    resp = client.get("/chat/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'data-user-id="{user.id}"' in html
    assert f'data-username="{user.username}"' in html
    assert 'data-api-root="/api/v1"' in html
    # The composer, the thread list and the new-thread dialog are there, with labels.
    assert 'id="thread-list"' in html
    assert '<label for="composer-input"' in html
    assert 'id="new-thread-dialog"' in html
    # The chat's own CSS and JS, plus the vendored socket.io client.
    assert "/static/css/chat.css" in html
    assert "/static/vendor/socket.io-4.8.4.min.js" in html
    assert re.search(r'<script type="module" src="/static/js/chat/main\.js', html)


def test_chat_page_has_no_inline_script_style_or_handlers(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as("user", first_name="<script>alert(1)</script>")
    resp = client.get("/chat/")
    html = resp.get_data(as_text=True)
    for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S):
        assert tag.strip() == "", "inline script"
    assert all("src=" in t for t in re.findall(r"<script\b[^>]*>", html))
    assert not re.search(r"\sstyle\s*=", html)
    assert "<style" not in html
    assert not re.search(r"\son[a-z]+\s*=", html, flags=re.I)
    assert "<script>alert(1)</script>" not in html
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp


def test_chat_static_files_are_served(client: FlaskClient, login_as) -> None:  # type: ignore[no-untyped-def]
    login_as("user")
    modules = sorted(p.name for p in CHAT_JS.glob("*.js"))
    # The page's entry module and the parts it starts are all there (no build step).
    parts = ("main", "state", "socket", "threads", "conversation", "receipts", "typing", "composer")
    assert {f"{name}.js" for name in (*parts, "attachments", "new-thread")} <= set(modules)
    paths = [f"/static/js/chat/{name}" for name in modules]
    for path in (*paths, "/static/js/live.js", "/static/css/chat.css"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        body = resp.get_data(as_text=True)
        # Data never goes into the page as HTML.
        assert "innerHTML" not in body, path
        assert "insertAdjacentHTML" not in body, path
        resp.close()


def test_chat_modules_import_only_what_exists() -> None:
    """Each chat module imports names that the module beside it exports (else the page dies)."""
    for module in CHAT_JS.glob("*.js"):
        imports = re.findall(IMPORT, module.read_text(), flags=re.M)
        for names, target in imports:
            path = (CHAT_JS / target).resolve()
            assert path.is_file(), f"{module.name} imports {target}"
            exported = set(re.findall(EXPORT, path.read_text(), flags=re.M))
            for name in (n.strip() for n in names.split(",") if n.strip()):
                assert name in exported, f"{module.name} imports {name} from {target}"
