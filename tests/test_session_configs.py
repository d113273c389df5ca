"""Lazy per-session component configs (ui.session_configs): same session state as Gradio's, built on demand."""

from gradio import state_holder

from settings import Settings
from storage.db import Store
from ui import session_configs
from ui.app import UIContext, build_app


def test_lazy_session_state_matches_gradios_and_builds_configs_on_demand(tmp_path):
    settings = Settings.load(env={"REFINERY_HOME": str(tmp_path)})
    demo = build_app(UIContext(Store(settings.db_path), settings))
    assert state_holder.SessionState.__init__ is session_configs._lazy_init

    eager = state_holder.SessionState.__new__(state_holder.SessionState)
    session_configs.GRADIO_INIT(eager, demo)
    lazy = state_holder.SessionState(demo)
    assert set(vars(lazy)) == set(vars(eager))  # a Gradio upgrade that adds state fails here
    assert dict.__len__(lazy.config_values) == 0  # nothing built at the first call

    some_id = next(iter(eager.config_values))
    assert some_id in lazy.config_values
    assert lazy.config_values[some_id] == eager.config_values[some_id]
    assert dict.__len__(lazy.config_values) == 1
    assert dict(lazy.config_values.items()) == eager.config_values  # deep links still see every block
    assert len(lazy.config_values) == len(eager.config_values)


def test_a_value_update_is_kept_until_the_config_is_built(tmp_path):
    settings = Settings.load(env={"REFINERY_HOME": str(tmp_path)})
    demo = build_app(UIContext(Store(settings.db_path), settings))
    eager = state_holder.SessionState.__new__(state_holder.SessionState)
    session_configs.GRADIO_INIT(eager, demo)
    lazy = state_holder.SessionState(demo)
    some_id = next(k for k, v in eager.config_values.items() if "props" in v and "value" in v["props"])
    session_configs.GRADIO_UPDATE_VALUE(eager, some_id, "new value")
    lazy._update_value_in_config(some_id, "new value")
    assert dict.__len__(lazy.config_values) == 0  # recorded, not built
    assert lazy.config_values[some_id] == eager.config_values[some_id]
    assert lazy.config_values[some_id]["props"]["value"] == "new value"
    lazy._update_value_in_config(some_id, "later")  # once built, updated in place as Gradio does
    assert lazy.config_values[some_id]["props"]["value"] == "later"
