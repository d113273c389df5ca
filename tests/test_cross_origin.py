"""A page from another origin (another port of the same host), opened in a real Chromium by a signed-in
researcher, tries every state-changing call with the researcher's cookie: each is refused by the
server and nothing changes in the database; the same call from the app's own page works."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from storage import users, votes
from storage.db import rows
from tests.fixtures_app import PASSWORDS, free_port, running_app
from tests.test_browser import browser, sign_in  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser

ATTACK_PAGE = b"""<!doctype html><title>elsewhere</title><script>
window.attack = async (app, fnIndex, pairId) => {
  const results = [];
  const note = async (what, call) => {
    try { const r = await call(); results.push({what, status: r.status, type: r.type, text: r.type === "opaque" ? "" : await r.text()}); }
    catch (err) { results.push({what, error: String(err)}); }
  };
  const calls = [
    ["refinery/annotate/open", {}],
    ["refinery/annotate/next", {task: "toy"}],
    ["refinery/annotate/skip", {pair_id: pairId, task: "toy"}],
    ["refinery/annotate/vote", {pair_id: pairId, task: "toy", verdict: "A is better"}],
    ["gradio_api/queue/join", {data: ["ann"], fn_index: fnIndex, session_hash: "elsewhere1", event_data: null, trigger_id: null}],
  ];
  for (const [path, body] of calls) {
    // a JSON call (the browser asks first) and a simple one (sent at once, the answer unreadable)
    await note(path + " json", () => fetch(app + "/" + path, {method: "POST", credentials: "include",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)}));
    await note(path + " simple", () => fetch(app + "/" + path, {method: "POST", mode: "no-cors", credentials: "include",
      headers: {"Content-Type": "text/plain"}, body: JSON.stringify(body)}));
  }
  const form = new FormData();
  form.append("files", new Blob(["x".repeat(1000)]), "big.txt");
  await note("upload", () => fetch(app + "/gradio_api/upload", {method: "POST", mode: "no-cors", credentials: "include", body: form}));
  await note("config read", () => fetch(app + "/config", {credentials: "include"}));
  return results;
};
</script>"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(ATTACK_PAGE)))
        self.end_headers()
        self.wfile.write(ATTACK_PAGE)

    def log_message(self, *args):
        pass


def _reset_password_event(url: str) -> int:
    with httpx.Client(base_url=url) as res:
        res.post("/login", data={"username": "res", "password": PASSWORDS["res"]}).raise_for_status()
        config = res.get("/config").json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == "research_reset_password")


def _state(store) -> tuple:
    return (votes.count_votes(store), rows(store.read(), "SELECT * FROM assignments ORDER BY pair_id, user_id"),
            users.get_user(store, "ann")["password_hash"])


def test_a_page_from_another_origin_cannot_act_for_a_signed_in_researcher(browser, tmp_path):  # noqa: F811
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    elsewhere = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with running_app(tmp_path / "home", n_pairs=2) as (url, store):
            fn_index = _reset_password_event(url)
            page = browser.new_page()
            sign_in(page, url, "res")
            # The app's own page may call its routes: the researcher takes a pair to vote on.
            shown = page.evaluate("""async () => (await fetch("refinery/annotate/next", {method: "POST",
                headers: {"Content-Type": "application/json"}, body: JSON.stringify({task: "toy"})})).json()""")
            pair_id = shown["pair_id"]
            assert pair_id is not None
            before = _state(store)
            answers = []
            page.on("response", lambda r: answers.append((r.request.method, r.url, r.status)) if r.url.startswith(url) else None)
            page.goto(elsewhere)
            results = page.evaluate("([app, fn, pair]) => window.attack(app, fn, pair)", [url, fn_index, pair_id])
            assert len(results) == 12
            for result in results:
                # JSON calls: the preflight is refused, so the browser never sends them; simple calls and
                # reads reach the server and are refused there (403, readable or not).
                refused = "error" in result or result["status"] in (0, 403)
                assert refused, result
                assert "pair_id" not in result.get("text", "") and "password" not in result.get("text", "").lower()
            sent = [a for a in answers if a[0] in ("POST", "GET")]
            assert len(sent) >= 6, answers  # the 5 simple POSTs and the upload reached the server
            assert all(status == 403 for _, _, status in sent), sent
            assert _state(store) == before  # no vote, no skip, no new pair served, no password reset
            # The same researcher's own page still works, so the refusals above were about the origin.
            page.goto(url)
            page.wait_for_selector("#refinery-verdict", timeout=30_000)
            status = page.evaluate(f"""async () => (await fetch("refinery/annotate/vote", {{method: "POST",
                headers: {{"Content-Type": "application/json"}},
                body: JSON.stringify({{pair_id: {pair_id}, task: "toy", verdict: "A is better"}})}})).status""")
            assert status == 200 and votes.count_votes(store) == before[0] + 1
    finally:
        server.shutdown()
