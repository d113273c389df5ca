"""Settings: defaults < TOML file < REFINERY_* variables; a wrong key or value is a message, not a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from settings import Settings
from storage.errors import UserError

ROOT = Path(__file__).resolve().parent.parent


def test_toml_then_env_override_defaults(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text('port = 8000\nweak_model = "w"\nworker_in_serve = false\n')
    s = Settings.load(toml, env={"REFINERY_PORT": "9000", "REFINERY_HOME": str(tmp_path / "h")})
    assert (s.port, s.weak_model, s.worker_in_serve, s.home) == (9000, "w", False, tmp_path / "h")
    assert Settings.load(env={}).port == 7860


@pytest.mark.parametrize("text, env, message", [
    ("prot = 1\n", {}, r"unknown settings in .*s\.toml: prot; see `python app.py --help`"),
    ('port = "x"\n', {}, r"s\.toml: port must be int, not 'x'"),
    ("port = \n", {}, r"settings file .*s\.toml: invalid TOML"),
    ("", {"REFINERY_PORT": "abc"}, r"REFINERY_PORT must be int, not 'abc'"),
    ("", {"REFINERY_WORKER_IN_SERVE": "maybe"}, r"REFINERY_WORKER_IN_SERVE must be true or false"),
])
def test_bad_settings_say_what_is_wrong(tmp_path, text, env, message):
    toml = tmp_path / "s.toml"
    toml.write_text(text)
    with pytest.raises(UserError, match=message):
        Settings.load(toml, env=env)


def test_the_cli_prints_a_bad_setting_without_a_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "REFINERY_HOME": str(tmp_path / "h"), "REFINERY_PORT": "abc"}
    done = subprocess.run([sys.executable, "app.py", "jobs", "list"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: REFINERY_PORT must be int, not 'abc'"


def test_help_lists_every_setting_with_its_help():
    import dataclasses

    from settings import help_epilog

    text = help_epilog()
    for f in dataclasses.fields(Settings):
        assert f"REFINERY_{f.name.upper()}: {f.metadata['help']}" in text
