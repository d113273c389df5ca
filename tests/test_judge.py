"""The LLM judge on a tiny random model: probabilities over the options -> expected score, the position-swap rule."""

import pytest
import torch

from settings import Settings
from judging import judge as J
from judging import judge_rubric as R
from study.evaluation import score_texts
from models.loading import load_uncached
from tests.tiny import tiny_model_dir  # noqa: F401  (fixture)

TASK = {"name": "pirate", "concept": "Talk like a pirate.", "concept_scorer": "pirate", "content_scorer": "key_facts"}
PROMPTS = [
    {"prompt": "What is the capital of Australia?", "reference": "Canberra.", "key_facts": [["Canberra"]]},
    {"prompt": "Why is the sky blue?", "reference": "Rayleigh scattering.", "key_facts": [["scatter"]]},
    {"prompt": "What is 7 times 8?", "answer": "56"},
]
TEXTS = ["Arr, the capital be Canberra, matey!", "Because of Rayleigh scattering of short blue wavelengths in the air.", "56"]


@pytest.fixture(scope="module")
def tiny_judge(tiny_model_dir, tmp_path_factory):
    model, tokenizer = load_uncached(str(tiny_model_dir), Settings(home=tmp_path_factory.mktemp("home")), device="cpu", dtype=torch.float32)
    return J.Judge(spec=str(tiny_model_dir), model=model, tokenizer=tokenizer, batch_size=2)


def test_expected_score_of_known_probabilities():
    probs = torch.tensor([[0, 0, 0, 0, 1.0], [1.0, 0, 0, 0, 0], [0.5, 0, 0, 0, 0.5], [0, 0.5, 0.5, 0, 0], [0.2] * 5])
    assert J.expected_score(probs) == pytest.approx([1.0, 0.0, 0.5, 0.375, 0.5])


def test_scores_are_the_expectation_of_the_models_option_probabilities(tiny_judge):
    """Scores from the shared prefix cache and padded batches equal the expectation from one unpadded forward pass each."""
    tok, model = tiny_judge.tokenizer, tiny_judge.model
    ids = [tok.encode(o, add_special_tokens=False)[0] for o in J.OPTIONS]
    scores = J.score_axis(tiny_judge, "content", TASK, PROMPTS, TEXTS)
    prefix, bodies, asks = J.segments(tok, TASK, PROMPTS, TEXTS, ["content"])
    for prompt, text, score, body in zip(PROMPTS, TEXTS, scores, bodies):
        chat = tok.apply_chat_template([{"role": "user", "content": R.rubric("content", TASK, prompt, text)}], tokenize=False, add_generation_prompt=True)
        assert tok.decode(prefix + body + asks["content"]) == chat  # the three segments are the whole chat prompt
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([prefix + body + asks["content"]])).logits[0, -1]
        p = torch.softmax(logits[ids], -1)
        assert score == pytest.approx(float((p * torch.tensor([0, 0.25, 0.5, 0.75, 1.0])).sum()), abs=1e-4)
        assert 0.0 <= score <= 1.0
    assert len(set(round(s, 6) for s in scores)) > 1  # the texts are really read: different rubrics, different scores


def test_a_model_with_flat_logits_scores_one_half(tiny_model_dir, tmp_path):
    """Zeroing the final norm makes every logit 0: uniform over 1..5, so the expected score is exactly 0.5."""
    model, tokenizer = load_uncached(str(tiny_model_dir), Settings(home=tmp_path), device="cpu", dtype=torch.float32)
    with torch.no_grad():
        model.model.norm.weight.zero_()
    flat = J.Judge("flat", model, tokenizer)
    assert J.judge_scores(flat, TASK, PROMPTS, TEXTS) == {"concept": pytest.approx([0.5] * 3), "content": pytest.approx([0.5] * 3)}


def test_rubrics_carry_the_concept_the_reference_and_the_degenerate_rule():
    concept = R.rubric("concept", TASK, PROMPTS[0], "Arr arr arr")
    assert "Talk like a pirate." in concept and "Arr arr arr" in concept and "Looping" in concept and "stuffed keywords" in concept
    content = R.rubric("content", TASK, PROMPTS[0], "Sydney")
    assert "KEY FACTS: Canberra" in content and "REFERENCE" not in content and "off-topic" in content  # key facts replace the reference
    assert "REFERENCE: Rayleigh" in R.rubric("content", TASK, {"prompt": "Why is the sky blue?", "reference": "Rayleigh"}, "x")
    assert "CORRECT ANSWER: 56" in R.rubric("content", TASK, PROMPTS[2], "56")
    assert len(R.rubric("content", TASK, PROMPTS[0], "x" * 10_000)) < 2000
    with pytest.raises(ValueError):
        R.rubric("style", TASK, PROMPTS[0], "x")


def test_both_axes_in_one_call_equal_each_axis_alone(tiny_judge):
    """The ask of one axis is cropped off the cache before the next: asking both changes neither."""
    both = J.judge_scores(tiny_judge, TASK, PROMPTS, TEXTS)
    for axis in ("concept", "content"):
        assert both[axis] == pytest.approx(J.score_axis(tiny_judge, axis, TASK, PROMPTS, TEXTS), abs=1e-5)
    assert J.judge_scores(tiny_judge, TASK, [], []) == {"concept": [], "content": []}


def test_position_swap_rule():
    assert J.combine_orders("a", "a") == "a"
    assert J.combine_orders("b", "b") == "b"
    assert J.combine_orders("a", "b") == "tie"  # the first-shown answer won both times: position bias
    assert J.combine_orders("b", "a") == "tie"


def test_judge_pair_asks_both_orders_and_ties_inconsistent_verdicts(tiny_judge):
    a, b = TEXTS, ["Sydney, matey.", "The sky is green.", "54"]
    verdicts = J.judge_pair(tiny_judge, TASK, PROMPTS, a, b, axis="content")
    probs = J.option_probs(tiny_judge, [R.pair_rubric("content", TASK, p, x, y) for p, x, y in zip(PROMPTS, a, b)]
                           + [R.pair_rubric("content", TASK, p, y, x) for p, x, y in zip(PROMPTS, a, b)], J.PAIR_OPTIONS)
    for i, v in enumerate(verdicts):
        first, swapped = float(probs[i, 0]), float(probs[3 + i, 1])
        assert v["p_a"] == pytest.approx((first + swapped) / 2)
        expected = "a" if first >= 0.5 and swapped >= 0.5 else "b" if first < 0.5 and swapped < 0.5 else "tie"
        assert v["winner"] == expected
    # the same answer on both sides: any preference is position bias, so every verdict is a tie
    same = J.judge_pair(tiny_judge, TASK, PROMPTS, a, a, axis="concept")
    assert [v["winner"] for v in same] == ["tie"] * 3
    assert [v["p_a"] for v in same] == pytest.approx([0.5] * 3, abs=1e-5)


def test_score_texts_adds_judge_axes_and_keeps_the_heuristics(tiny_judge):
    plain = score_texts(TASK, PROMPTS[:2], TEXTS[:2])
    judged = score_texts(TASK, PROMPTS[:2], TEXTS[:2], judge=tiny_judge)
    assert judged["concept"] == plain["concept"] and judged["content"] == plain["content"]
    assert judged["judge_concept"] == pytest.approx(J.score_axis(tiny_judge, "concept", TASK, PROMPTS[:2], TEXTS[:2]))
    assert len(judged["judge_content"]) == 2


def test_options_must_be_single_tokens(tiny_judge):
    with pytest.raises(ValueError, match="single tokens"):
        J.option_ids(tiny_judge.tokenizer, ["1", "definitely-not-one-token"])


def test_auto_precision_is_int8_only_on_a_cpu_without_native_bf16(monkeypatch):
    from storage.errors import UserError
    from models import loading

    monkeypatch.setattr(loading, "cpu_has_native_bf16", lambda cpuinfo=None: False)
    assert J.pick_precision("auto", "cpu") == "int8"
    assert J.pick_precision("auto", "cuda") == "native"
    assert J.default_name("qwen", device="cpu") == "qwen (int8)"  # how reports name the judge they did not load
    monkeypatch.setattr(loading, "cpu_has_native_bf16", lambda cpuinfo=None: True)
    assert J.pick_precision("auto", "cpu") == "native"
    assert J.default_name("qwen", device="cpu") == "qwen"
    assert J.pick_precision("int8", "cpu") == "int8"
    with pytest.raises(UserError, match="CPU path"):
        J.pick_precision("int8", "cuda")
    with pytest.raises(UserError, match="one of"):
        J.pick_precision("fp8", "cpu")


def test_the_cli_offers_the_judges_precisions():
    from judging.scorers_cli import JUDGE_PRECISIONS

    assert JUDGE_PRECISIONS == J.PRECISIONS


def test_an_int8_judge_quantizes_its_own_copy_and_scores_close_to_full_precision(tiny_model_dir, tmp_path):
    """The int8 judge's blocks keep only the MLP down projections in float, the shared cached model keeps all, and scores stay close."""
    settings = Settings(home=tmp_path)
    native = J.load_judge(str(tiny_model_dir), settings, device="cpu", precision="native")
    int8 = J.load_judge(str(tiny_model_dir), settings, device="cpu", precision="int8")
    float_linears = lambda m: [n for n, mod in m.model.named_modules() if type(mod) is torch.nn.Linear]  # noqa: E731
    assert float_linears(int8.model) and all(n.endswith("down_proj") for n in float_linears(int8.model))
    assert len(float_linears(native.model)) > len(float_linears(int8.model))
    assert type(int8.model.lm_head) is torch.nn.Linear  # the five option logits are read in full precision
    assert int8.name == f"{tiny_model_dir} (int8)" and native.name == str(tiny_model_dir)
    full, quantized = J.judge_scores(native, TASK, PROMPTS, TEXTS), J.judge_scores(int8, TASK, PROMPTS, TEXTS)
    for axis in full:
        assert quantized[axis] == pytest.approx(full[axis], abs=0.05)
        assert quantized[axis] != full[axis]  # really another model


def test_judge_pair_reads_both_orders_and_a_model_that_always_says_A_is_all_position_bias(tiny_model_dir, tmp_path):
    """Known answers on the tiny model: with the final norm zeroed and the output bias pushed to "A", P(A) is the same in
    both orders, so P(a) is high shown first and low shown second: every verdict is a tie and p_a is exactly 0.5."""
    model, tokenizer = load_uncached(str(tiny_model_dir), Settings(home=tmp_path), device="cpu", dtype=torch.float32)
    a_id, b_id = J.option_ids(tokenizer, J.PAIR_OPTIONS)
    with torch.no_grad():
        model.model.norm.weight.zero_()  # every logit 0 ...
        head = model.get_output_embeddings()
        if head.bias is None:
            head.bias = torch.nn.Parameter(torch.zeros(head.weight.shape[0]))
        head.bias[a_id] = 2.0  # ... but A's: P(A) = e^2 / (e^2 + 1) whatever the text
    biased = J.Judge("biased", model, tokenizer)
    verdicts = J.judge_pair(biased, TASK, PROMPTS, TEXTS, ["Sydney", "green", "54"], axis="concept")
    p = float(torch.sigmoid(torch.tensor(2.0)))
    for v in verdicts:
        assert v["p_first"] == pytest.approx(p, abs=1e-5) and v["p_swapped"] == pytest.approx(1 - p, abs=1e-5)
        assert v["winner"] == "tie" and v["p_a"] == pytest.approx(0.5, abs=1e-5)


def test_the_pairwise_concept_rubric_calls_a_formula_weak_and_a_loop_a_loser():
    concept = R.pair_rubric("concept", TASK, PROMPTS[0], "Arr, Canberra.", "Canberra.")
    assert "A formula is weak" in concept and "one interjection" in concept and "looping" in concept and "loses" in concept
    assert "KEY FACTS" not in concept  # the style question shows no facts
    content = R.pair_rubric("content", TASK, PROMPTS[0], "Arr, Canberra.", "Sydney.")
    assert "KEY FACTS: Canberra" in content and "formula" not in content and "loses" in content
