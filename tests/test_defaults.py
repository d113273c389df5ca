"""Defaults that fit together: a Generate run with the tab's defaults produces every side the default
recipe's pair plan needs, with the params of the shipped seed answers, so all of them are reused; Train's
default strategies are among them; generate and evaluate share one token limit."""

from feedback import seed
from feedback.pair_plan import PLANS
from feedback.recipes import DEFAULT_RECIPE, RECIPES
from models.gen_params import DEFAULT_MAX_NEW_TOKENS, GenParams
from models.generate_spec import make_job, output_params
from storage import outputs
from storage import tasks as task_store
from study.evaluate_job import EvalJob
from training.config import TrainConfig
from ui.generate_tab import PLAN_STRATEGIES


def test_default_strategies_cover_the_default_recipes_plan_and_train_uses_them():
    assert {side for pair in PLANS[RECIPES[DEFAULT_RECIPE].plan].pairs for side in pair} <= set(PLAN_STRATEGIES)
    assert "strong-base" in PLAN_STRATEGIES
    assert {TrainConfig().refined_strategy, TrainConfig().weak_strategy} <= set(PLAN_STRATEGIES)


def test_candidates_and_pairs_come_from_train_prompts_unless_asked():
    """README's generate and pairs commands, as typed, never put an eval prompt before annotators or a trainer."""
    import app

    parser = app.build_parser()
    for argv in (["generate", "--task", "pirate", "--strategies", "weak"], ["pairs", "--task", "pirate"]):
        assert task_store.split_choice(parser.parse_args(argv).split) == "train"
        assert task_store.split_choice(parser.parse_args(argv + ["--split", "all"]).split) is None


def test_one_token_limit_the_seeds_use():
    records = [r for path in sorted(seed.SEED_DIR.glob("*.jsonl")) for r in seed.read_seed_file(path)]
    assert {r["params"]["max_new_tokens"] for r in records} == {DEFAULT_MAX_NEW_TOKENS}
    assert GenParams().max_new_tokens == EvalJob.__dataclass_fields__["max_new_tokens"].default == DEFAULT_MAX_NEW_TOKENS


def test_a_default_generate_run_finds_every_seed_answer_of_its_strategies(settings, store):
    seed.load_seed(store)
    seeded = {path.stem for path in seed.SEED_DIR.glob("*.jsonl")}  # pirate, analogy
    for task in (t for t in task_store.list_tasks(store) if t["name"] in seeded):
        job = make_job(store, settings, task["name"], PLAN_STRATEGIES, 40, split="train")  # the tab's defaults
        prompts = task_store.list_prompts(store, task["prompt_set"], "train", limit=40)  # as the job picks them
        models = {"weak": job.weak}
        for strategy in PLAN_STRATEGIES:
            model = models.get(strategy, job.strong)
            found = [outputs.find_output(store, task["id"], p["id"], model, strategy, output_params(job, strategy), job.seed)
                     for p in prompts]
            assert all(found), (task["name"], strategy, sum(f is None for f in found))
