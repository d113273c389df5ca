"""`python app.py serve`: prints the URL and the first researcher's login once, which then signs in."""

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fixtures_app import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_serve_prints_url_and_first_login(tmp_path):
    port = free_port()
    home = tmp_path / "home"
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--home", str(home), "serve", "--port", str(port), "--no-worker"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not any("password" in line for line in lines):
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "".join(lines)
            lines.append(line)
        login = next(line for line in lines if "password" in line).split()
        username, password = login[login.index("account:") + 1], login[login.index("password:") + 1]
        lines.extend(proc.stdout.readline() for _ in range(2))
        banner = lines[-4:]  # framed, last, and saying how to get a new password
        assert banner[0].startswith("+--") and banner[-1].startswith("+--") and banner[1].startswith("| First researcher")
        assert f"python app.py users reset {username}" in banner[2]
        assert any(f"http://127.0.0.1:{port}" in line for line in lines)
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/config").status_code == 401:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert httpx.post(f"http://127.0.0.1:{port}/login", data={"username": username, "password": password}).status_code == 200
        assert httpx.post(f"http://127.0.0.1:{port}/login", data={"username": username, "password": "wrong"}).status_code == 400
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # A second start finds the researcher and prints no password.
    port = free_port()
    again = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--home", str(home), "serve", "--port", str(port), "--no-worker"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = again.stdout.readline()
        assert "http://" in first
        _wait_until_it_answers(port)  # the banner comes once the server answers: after this it would be out
    finally:
        again.terminate()
        out = again.communicate(timeout=30)[0]
    assert "password" not in first + out


def _wait_until_it_answers(port: int, timeout_s: float = 120) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered on port {port} within {timeout_s} s")


def _children(pid: int) -> list[tuple[int, str]]:
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append((int(proc.name), cmd))
    return out


def test_serve_starts_the_worker_and_stops_it_on_exit(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--home", str(tmp_path / "home"), "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        workers = []
        while time.time() < deadline and not workers:
            workers = [pid for pid, cmd in _children(proc.pid) if cmd.rstrip().endswith(" worker")]
            time.sleep(0.5)
        assert workers, "serve started no worker"
        while time.time() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/config")
                break
            except httpx.HTTPError:
                time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    time.sleep(0.5)
    assert not Path(f"/proc/{workers[0]}").exists() or "zombie" in Path(f"/proc/{workers[0]}/status").read_text()


def test_the_worker_runs_without_progress_bars_unless_asked():
    from ui.serve import worker_env

    assert worker_env({"PATH": "/bin"})["TQDM_DISABLE"] == "1"
    assert worker_env({"TQDM_DISABLE": "0"})["TQDM_DISABLE"] == "0"
