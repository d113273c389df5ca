"""Benchmark: Refinery's generator against plain `model.generate`, in one process (issue 4).

    .venv/bin/python bench/generate.py [--model smollm2-135m] [--max-new-tokens 128] [--batch-size 16]
        [--dtypes bfloat16,float32]    # (a)-(c) once per dtype, in one run, on one machine

On the embedded weak model, greedy, stopping at EOS, 32 prompts of mixed length (one-word
answers, short explanations, long multi-paragraph requests), it measures generated tokens per
second of
  (a) loop:    one `model.generate` call per prompt,
  (b) batched: `model.generate` on left-padded batches of 16, in the prompts' order,
  (c) refinery: models.generation.Generator at its default batch size (continuous batching:
      finished rows leave the batch, waiting prompts join it),
  (d) llama.cpp: llama-cpp-python on the GGUF file the embedded model was converted from, the same
      prompt token ids, greedy, one prompt at a time, when it is installed (`make bench-llama-cpp`
      builds it; not part of `make test`),
and prints the figures, ratio_vs_loop = c/a, ratio_vs_batched = c/b, ratio_vs_llama_cpp = c/d, and
how many texts of (b), (c) and (d) differ from the loop's. Tokens are counted up to (not including)
EOS for all of them.
The load average and each run's CPU seconds are printed too: on a shared machine other processes
skew wall-clock figures, and ratios per CPU-second of this process are less sensitive to them.

Measured 2026-11-27 on the 2-core AMD EPYC (AVX2, no bf16: fp32), idle machine (load 1.3):
loop 12.6 tok/s, batched 48.6 tok/s, refinery 90.8 tok/s; ratio_vs_loop 7.19, ratio_vs_batched
1.87; 2258 tokens each, 0/32 texts differing from the loop's. A decode step here is bound by
reading the weights (1 row: 109 ms, 16 rows: 263 ms, 32 rows: 287 ms), which is why the
generator's default batch is 32 rows; at 16 it ran at 49.4 tok/s (ratio_vs_loop 4.94).

Measured 2026-12-04 with `--dtypes bfloat16,float32` on a 2-core AMD EPYC with native bf16
(AVX512-BF16), idle (load 0.3), llama-cpp-python 0.3.36 built with GGML_NATIVE on SmolLM2's Q4_1 GGUF:
  bfloat16: loop 36.0, batched 201.7, refinery 343.2 tok/s; ratio_vs_loop 9.52, ratio_vs_batched
            1.70; texts differing from the loop's: batched 22/32, refinery 19/32;
  float32:  loop 23.5, batched 104.2, refinery 168.8 tok/s; ratio_vs_loop 7.18, ratio_vs_batched
            1.62; 0/32 texts differing (identity in fp32 holds);
  llama.cpp: 147.2 tok/s, 22/32 texts differing from the fp32 loop's (it computes on the 4-bit
            weights, Refinery on their dequantized copy); ratio_vs_llama_cpp 2.33 in bf16, 1.15 in fp32.
bf16 is twice fp32 here, which is why the loader picks bf16 on CPUs with native bf16; with 16
prompts (one batch of 16) fp32 ran at 76.7 tok/s against llama.cpp's 122.1 (ratio 0.63): the
batched generator wins once it has rows to batch, llama.cpp decodes one sequence at a time.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from settings import Settings  # noqa: E402
from docblocks import replace as replace_block  # noqa: E402
from models.chat import encode, eos_ids  # noqa: E402
from models.generation import GenParams, Generator  # noqa: E402
from models.loading import load  # noqa: E402

ONE_WORD = [
    "What is the capital of France? Answer in one word.",
    "Name the largest planet in the solar system. One word only.",
    "What color is the sky on a clear day? One word.",
    "How many legs does a spider have? Answer with a number.",
    "What is the chemical symbol for gold?",
    "Which animal is known as the king of the jungle? One word.",
    "What is 7 times 8? Just the number.",
    "Who wrote Romeo and Juliet? Give only the surname.",
    "What is the opposite of hot? One word.",
    "Which ocean is the largest? One word.",
    "What gas do plants absorb from the air? Short answer.",
]
SHORT = [
    "Explain in two sentences why the sea is salty.",
    "Briefly explain what photosynthesis is.",
    "In a few sentences, what causes the seasons on Earth?",
    "Explain what a prime number is, briefly.",
    "Why do we have leap years? Keep it short.",
    "What does a thermometer measure and how does it work? Briefly.",
    "Describe in two sentences what a volcano is.",
    "Briefly, why do cats purr?",
    "What is the difference between weather and climate? Two sentences.",
    "Explain gravity to a child in a few sentences.",
    "Briefly explain what a computer virus is.",
]
LONG = [
    "Write a detailed, multi-paragraph essay about the history of the printing press, its inventor, how it spread "
    "across Europe, and how it changed education, religion and politics. Cover at least four paragraphs.",
    "I am planning a two-week trip to Japan in spring. Please write a long, detailed itinerary covering Tokyo, "
    "Kyoto, Osaka and Hiroshima, with suggestions for food, transport, etiquette and budget, in several paragraphs.",
    "Explain in depth how the human immune system works, including innate and adaptive immunity, the role of white "
    "blood cells, antibodies, vaccines and memory cells. Write several paragraphs with examples.",
    "Write a long short story of several paragraphs about a lighthouse keeper who discovers a message in a bottle "
    "that changes his life. Include dialogue and a twist at the end.",
    "Compare and contrast renewable and non-renewable energy sources in a detailed multi-paragraph answer: solar, "
    "wind, hydro, coal, oil, gas and nuclear, with their costs, benefits and environmental impact.",
    "Describe, in several detailed paragraphs, the causes, main events and consequences of the French Revolution, "
    "and explain why historians still debate its legacy today.",
    "Write a comprehensive beginner's guide to starting a vegetable garden: choosing a site, preparing soil, "
    "selecting crops, planting schedules, watering, pests and harvesting. Use multiple paragraphs.",
    "Explain how the internet works, from physical cables and routers to IP addresses, DNS, TCP, HTTP and web "
    "browsers, in a long multi-paragraph explanation suitable for a curious teenager.",
    "Write a detailed letter of several paragraphs to a city council arguing for more bicycle lanes, covering "
    "safety, health, environment, economy and answering common objections.",
    "Discuss in several paragraphs the benefits and risks of artificial intelligence for society, including jobs, "
    "healthcare, education, privacy and safety, and suggest how governments should respond.",
]


def prompts(n: int = 32, seed: int = 0) -> list[str]:
    """n prompts of mixed kinds in a fixed shuffled order (the order a job might receive them in)."""
    mixed = (ONE_WORD + SHORT + LONG)[:n]
    random.Random(seed).shuffle(mixed)
    return mixed


def _until_eos(ids: list[int], stop: set[int]) -> list[int]:
    for i, token in enumerate(ids):
        if token in stop:
            return ids[:i]
    return ids


@torch.inference_mode()
def plain_generate(model, tokenizer, batch: list[list[int]], max_new_tokens: int, stop: set[int]) -> list[list[int]]:
    """`model.generate` greedy on one left-padded batch; new ids per prompt up to EOS."""
    width = max(len(p) for p in batch)
    pad = tokenizer.pad_token_id
    input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in batch], device=model.device)
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in batch], device=model.device)
    out = model.generate(input_ids=input_ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False)
    return [_until_eos(row[width:].tolist(), stop) for row in out]


def llama_cpp_generate(gguf: Path, ids: list[list[int]], max_new_tokens: int, stop: set[int]) -> list[list[int]]:
    """(d): llama.cpp greedy on each prompt's token ids in turn; new ids per prompt up to EOS."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=1024, n_threads=os.cpu_count(), verbose=False)
    llm.generate(ids[0], top_k=1, temp=0.0)  # warm-up, as for the other runs
    out = []
    for prompt in ids:
        new: list[int] = []
        for token in llm.generate(prompt, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0, reset=True):
            if token in stop or len(new) == max_new_tokens:
                break
            new.append(token)
        out.append(new)
    return out


def gguf_file(spec: str, settings) -> Path | None:
    """The GGUF an embedded model is converted from (None for other specs)."""
    from storage.errors import UserError
    from models import embedded

    try:
        return embedded.assemble(spec, settings)
    except UserError:
        return None


def timed(fn):
    """(result, wall seconds, CPU seconds of this process)."""
    start, cpu = time.perf_counter(), time.process_time()
    ids = fn()
    return ids, time.perf_counter() - start, time.process_time() - cpu


def torch_runs(args, settings, dtype: torch.dtype | None, convs: list) -> tuple[dict, object, list, set]:
    """(a), (b), (c) on the model loaded in `dtype` (None: the loader's default); (runs, tokenizer, ids, stop)."""
    model, tokenizer = load(args.model, settings, device=args.device, dtype=dtype)
    ids = [encode(tokenizer, c) for c in convs]
    stop = eos_ids(model, tokenizer)
    params = GenParams(max_new_tokens=args.max_new_tokens, temperature=0.0)  # Refinery's own batch size
    generator = Generator(model, tokenizer, backend="transformers")
    name = str(model.dtype).replace("torch.", "")
    print(f"model {args.model} on {model.device} in {name}, {torch.get_num_threads()} threads, "
          f"{len(ids)} prompts ({min(map(len, ids))}-{max(map(len, ids))} tokens), greedy, max {args.max_new_tokens} new tokens, "
          f"(b) in batches of {args.batch_size}, (c) in batches of up to {params.batch_size}")
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    plain_generate(model, tokenizer, ids[:2], 4, stop)  # warm-up: first calls allocate and pick kernels
    runs = {}
    runs["loop"] = timed(lambda: [plain_generate(model, tokenizer, [p], args.max_new_tokens, stop)[0] for p in ids])
    _report(f"a) loop {name}", runs["loop"])
    runs["batched"] = timed(
        lambda: [row for i in range(0, len(ids), args.batch_size) for row in plain_generate(model, tokenizer, ids[i : i + args.batch_size], args.max_new_tokens, stop)]
    )
    _report(f"b) batched {name}", runs["batched"])
    runs["refinery"] = timed(lambda: generator.generate_ids(convs, params))
    _report(f"c) refinery {name}", runs["refinery"])
    return {f"{k} {name}": v for k, v in runs.items()}, tokenizer, ids, stop


def main(argv: list[str] | None = None) -> dict:
    """Run (a), (b), (c) per dtype and (d), and print their tok/s, the ratios and the text differences."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="smollm2-135m", help="model spec (default: the embedded weak model)")
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=16, help="batch size of (b)")
    ap.add_argument("--n", type=int, default=32, help="number of prompts (at most 32)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtypes", default="auto", help="comma-separated dtypes to run (a)-(c) in, e.g. bfloat16,float32 (auto: the loader's)")
    ap.add_argument("--no-llama-cpp", action="store_true", help="skip (d) even when llama-cpp-python is installed")
    ap.add_argument("--update-readme", action="store_true", help="write the figures into bench/README.md's generation paragraph")
    args = ap.parse_args(argv)
    machine = cpu_words()

    settings = Settings.load()
    convs = [[{"role": "user", "content": p}] for p in prompts(args.n)]
    runs, names = {}, []
    for dtype in args.dtypes.split(","):
        found, tokenizer, ids, stop = torch_runs(args, settings, None if dtype == "auto" else getattr(torch, dtype), convs)
        runs.update(found)
        names.append(next(iter(found)).split(" ", 1)[1])
    gguf = None if args.no_llama_cpp else gguf_file(args.model, settings)
    if gguf is not None and importlib.util.find_spec("llama_cpp") is not None:
        runs["llama.cpp"] = timed(lambda: llama_cpp_generate(gguf, ids, args.max_new_tokens, stop))
        _report("d) llama.cpp", runs["llama.cpp"])
        print(f"   (llama.cpp on {gguf.name}, {os.cpu_count()} threads)")
    else:
        print("d) llama.cpp: skipped (" + ("not an embedded model with a GGUF" if gguf is None and not args.no_llama_cpp
              else "--no-llama-cpp" if args.no_llama_cpp else "llama-cpp-python not installed: make bench-llama-cpp") + ")")

    rate = {k: sum(map(len, v[0])) / v[1] for k, v in runs.items()}
    cpu_rate = {k: sum(map(len, v[0])) / v[2] for k, v in runs.items()}
    texts = {k: [tokenizer.decode(x, skip_special_tokens=True) for x in v[0]] for k, v in runs.items()}
    differ = lambda a, b: sum(x != y for x, y in zip(texts[a], texts[b]))  # noqa: E731
    result = {"tok_s": {k: round(v, 1) for k, v in rate.items()}}
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    for name in names:
        loop, batched, ours = f"loop {name}", f"batched {name}", f"refinery {name}"
        result[name] = {
            "ratio_vs_loop": round(rate[ours] / rate[loop], 2),
            "ratio_vs_batched": round(rate[ours] / rate[batched], 2),
            "cpu_ratio_vs_loop": round(cpu_rate[ours] / cpu_rate[loop], 2),
            "cpu_ratio_vs_batched": round(cpu_rate[ours] / cpu_rate[batched], 2),
            "batched_texts_differing_from_loop": differ(loop, batched),
            "refinery_texts_differing_from_loop": differ(loop, ours),
        }
        r = result[name]
        line = (f"{name}: ratio_vs_loop = {r['ratio_vs_loop']}  ratio_vs_batched = {r['ratio_vs_batched']}  "
                f"(per CPU-second: {r['cpu_ratio_vs_loop']}, {r['cpu_ratio_vs_batched']}); texts differing from the loop's: "
                f"batched {r['batched_texts_differing_from_loop']}/{len(ids)}, refinery {r['refinery_texts_differing_from_loop']}/{len(ids)}")
        if "llama.cpp" in runs:
            r["ratio_vs_llama_cpp"] = round(rate[ours] / rate["llama.cpp"], 2)
            r["llama_cpp_texts_differing_from_loop"] = differ(loop, "llama.cpp")
            line += f", llama.cpp {r['llama_cpp_texts_differing_from_loop']}/{len(ids)}; ratio_vs_llama_cpp = {r['ratio_vs_llama_cpp']} (target >= 1.0)"
        print(line)
    if len(names) > 1:
        fastest = max(names, key=lambda n: rate[f"refinery {n}"])
        print("refinery tok/s by dtype: " + ", ".join(f"{n} {rate[f'refinery {n}']:.1f}" for n in names) + f"; fastest: {fastest}")
    if args.update_readme:
        readme = ROOT / "bench" / "README.md"
        readme.write_text(replace_block(readme.read_text(), readme_paragraph(args, machine, names, rate, result, len(ids)),
                                                 README_START, README_END))
        print("bench/README.md: generation paragraph updated")
    return result


README_START, README_END = "<!-- generate-bench:start -->", "<!-- generate-bench:end -->"


def cpu_words() -> str:
    """The CPU in words (models.loading.cpu_in_words), with the load before the run."""
    from models.loading import cpu_in_words

    return f"{cpu_in_words()}, load average {os.getloadavg()[0]:.1f} at the start"


def readme_paragraph(args, machine: str, names: list[str], rate: dict, result: dict, n: int) -> str:
    """bench/README.md's generation paragraph from this run's figures (written by --update-readme)."""
    per_dtype = "; ".join(
        f"in {name} {rate[f'refinery {name}']:.0f} tok/s against {rate[f'loop {name}']:.0f} one by one and "
        f"{rate[f'batched {name}']:.0f} in plain padded batches, {result[name]['refinery_texts_differing_from_loop']}/{n} "
        f"texts differing from the one-by-one loop's" for name in names)
    text = (f"Generation speed, measured by `python bench/generate.py --dtypes {args.dtypes}` on the embedded weak model "
            f"({machine}; {n} prompts, greedy, up to {args.max_new_tokens} new tokens): Refinery's generator ran {per_dtype}.")
    if "llama.cpp" in rate:
        ratios = ", ".join(f"{result[name]['ratio_vs_llama_cpp']:.2f} in {name}" for name in names)
        text += (f" llama.cpp (llama-cpp-python, `make bench-llama-cpp`) on the same GGUF ran {rate['llama.cpp']:.0f} tok/s "
                 f"(ratio_vs_llama_cpp {ratios}). ")
        text += ("Refinery's generator stays the CPU default: it is faster here, and it serves trained versions' "
                 "adapters and the strategies directly, where llama.cpp would need every adapter merged and converted."
                 if all(result[name]["ratio_vs_llama_cpp"] >= 1.0 for name in names) else
                 "llama.cpp is faster in at least one dtype here; Refinery's generator is still the default, since "
                 "llama.cpp would need every trained version's adapter merged and converted to GGUF.")
    return text


def _report(name: str, run) -> None:
    out, seconds, cpu = run
    tokens = sum(map(len, out))
    print(f"{name:12s} {tokens:5d} tokens in {seconds:6.1f} s = {tokens / seconds:6.1f} tok/s  (CPU {cpu:6.1f} s)", flush=True)


if __name__ == "__main__":
    main()
