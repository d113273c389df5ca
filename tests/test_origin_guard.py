"""ui/origin_guard.py: requests and preflights from foreign origins are refused, the own and listed origins
pass, scripts without Origin or Referer pass, and the sign-in cookies become SameSite=Lax (in the real
app too)."""

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from settings import Settings
from storage.errors import UserError
from tests.fixtures_app import PASSWORDS, running_app
from ui import origin_guard

OWN = "http://testserver"  # TestClient's Host
LISTED = "https://lab.example.org"


def _inner(request):
    response = PlainTextResponse("done")
    response.set_cookie("access-token-abc", "t", httponly=True, samesite="none", secure=True)
    response.set_cookie("theme", "dark")
    return response


@pytest.fixture
def client():
    app = Starlette(routes=[Route("/{path:path}", _inner, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])])
    return TestClient(origin_guard.OriginGuard(app, origin_guard.allowed_origins(LISTED + ", http://10.0.0.5:8080/")))


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("origin", ["http://testserver:8080", "https://testserver", "http://evil.example", "null", "garbage"])
def test_a_foreign_origin_is_refused_whatever_the_method(client, method, origin):
    response = client.request(method, "/gradio_api/queue/join", headers={"Origin": origin})
    assert response.status_code == 403 and "another site" in response.json()["error"]
    assert not any(h.startswith("access-control") for h in response.headers)


@pytest.mark.parametrize("origin", [OWN, "HTTP://TESTSERVER:80", LISTED, "https://lab.example.org:443", "http://10.0.0.5:8080"])
def test_the_own_and_listed_origins_pass(client, origin):
    response = client.post("/refinery/annotate/vote", headers={"Origin": origin})
    assert response.status_code == 200 and response.text == "done"


def test_a_listed_origin_may_read_the_answer_and_its_preflight_is_granted(client):
    assert client.post("/x", headers={"Origin": LISTED}).headers["access-control-allow-origin"] == LISTED
    preflight = client.options("/x", headers={"Origin": LISTED, "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == LISTED
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert preflight.headers["access-control-allow-headers"] == "content-type"


def test_a_foreign_preflight_is_refused_without_any_cors_header(client):
    preflight = client.options("/refinery/annotate/vote", headers={"Origin": "http://testserver:9999",
                                                                  "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403
    assert not any(h.startswith("access-control") for h in preflight.headers)


def test_without_origin_the_referer_decides_state_changing_requests(client):
    assert client.post("/x", headers={"Referer": "http://evil.example/page"}).status_code == 403
    assert client.get("/logout", headers={"Referer": "http://evil.example/page"}).status_code == 403
    assert client.post("/x", headers={"Referer": OWN + "/?view=annotate"}).status_code == 200
    assert client.get("/", headers={"Referer": "http://evil.example/page"}).status_code == 200  # a link from elsewhere
    assert client.post("/x").status_code == 200  # a script: neither header


def test_a_foreign_websocket_is_closed_and_the_own_one_opens():
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def echo(scope, receive, send):
        socket = WebSocket(scope, receive, send)
        await socket.accept()
        await socket.send_text("open")
        await socket.close()

    client = TestClient(origin_guard.OriginGuard(echo))
    with client.websocket_connect("/ws", headers={"Origin": OWN}) as socket:
        assert socket.receive_text() == "open"
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/ws", headers={"Origin": "http://evil.example"}) as socket:
            socket.receive_text()


def test_session_cookies_become_same_site_lax_and_others_are_left_alone(client):
    cookies = client.get("/").headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("access-token-abc"))
    assert "SameSite=Lax" in session and "samesite=none" not in session.lower() and "Secure" in session
    assert next(c for c in cookies if c.startswith("theme")) == "theme=dark; Path=/; SameSite=lax"


def test_a_malformed_allowed_origins_setting_is_named():
    with pytest.raises(ValueError, match="not an origin"):
        origin_guard.allowed_origins("https://lab.example.org/path")
    with pytest.raises(ValueError, match="not an origin"):
        origin_guard.allowed_origins("lab.example.org")
    from ui.app import UIContext, launch_options

    settings = Settings.load(env={"REFINERY_ALLOWED_ORIGINS": "ftp://x"})
    with pytest.raises(UserError, match="allowed_origins"):
        launch_options(UIContext(store=None, settings=settings))


def test_the_real_sign_in_cookies_are_same_site_lax_and_a_foreign_preflight_is_refused(tmp_path):
    with running_app(tmp_path / "home", n_pairs=1) as (url, _):
        response = httpx.post(url + "/login", data={"username": "ann", "password": PASSWORDS["ann"]})
        cookies = response.headers.get_list("set-cookie")
        assert len(cookies) == 2 and all("SameSite=Lax" in c and "none" not in c.lower() for c in cookies)
        other_port = url.rsplit(":", 1)[0] + ":1"
        preflight = httpx.options(url + "/gradio_api/queue/join", headers={"Origin": other_port, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
        assert "access-control-allow-credentials" not in preflight.headers
