"""Grade-school word problems with exact integer answers and worked solutions, from a seeded RNG.

Each problem comes from one of several templates (shopping, change, speed, reading rate,
sharing, ages, multi-step baking, discounts, fencing); the numbers are drawn so every step is
a whole number. Row i uses its own RNG seeded with (seed, i), so the first rows do not change
when more are asked for; a question already drawn is redrawn, so all are distinct. The reference is the worked solution, one calculation per line,
ending in `#### <answer>`, the format the `math-steps` task asks for.

The shipped prompt set data/prompts/math.jsonl is this generator's output for the default
seed and count, written with `python -m tools.mathgen --write`; a test checks that the file
still equals the generator's output, so it can be read and reviewed like any other set.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Callable

from feedback.prompt_import import default_split

DEFAULT_SEED = 0
DEFAULT_COUNT = 240
NAMES = ["Sam", "Alex", "Jordan", "Taylor", "Riley", "Casey", "Morgan", "Jamie", "Avery", "Quinn", "Robin", "Kai"]
ITEMS = [("notebook", "notebooks"), ("pen", "pens"), ("apple", "apples"), ("ticket", "tickets"), ("toy car", "toy cars"), ("book", "books")]

Problem = tuple[str, list[str], int]  # question, solution steps, answer


def _shopping(rng: random.Random) -> Problem:
    name = rng.choice(NAMES)
    (one_a, many_a), (one_b, many_b) = rng.sample(ITEMS, 2)
    a, p, b, q = rng.randint(2, 9), rng.randint(2, 15), rng.randint(2, 9), rng.randint(2, 15)
    x, y = a * p, b * q
    question = f"{name} buys {a} {many_a} at ${p} each and {b} {many_b} at ${q} each. How many dollars does {name} spend in total?"
    steps = [f"The {many_a} cost {a} × ${p} = ${x}.", f"The {many_b} cost {b} × ${q} = ${y}.", f"In total {name} spends ${x} + ${y} = ${x + y}."]
    return question, steps, x + y


def _change(rng: random.Random) -> Problem:
    name = rng.choice(NAMES)
    one, many = rng.choice(ITEMS)
    a, p = rng.randint(2, 8), rng.randint(3, 12)
    cost = a * p
    paid = rng.choice([m for m in (20, 50, 100) if m > cost])  # cost is at most 8 × $12 = $96
    question = f"{name} pays for {a} {many} costing ${p} each with a ${paid} bill. How many dollars of change does {name} get?"
    steps = [f"The {many} cost {a} × ${p} = ${cost}.", f"The change is ${paid} - ${cost} = ${paid - cost}."]
    return question, steps, paid - cost


def _speed(rng: random.Random) -> Problem:
    s1, h1, s2, h2 = rng.randint(4, 12) * 10, rng.randint(2, 5), rng.randint(3, 10) * 10, rng.randint(2, 4)
    d1, d2 = s1 * h1, s2 * h2
    question = (f"A bus drives at {s1} km per hour for {h1} hours, then at {s2} km per hour for {h2} hours. "
                "How many kilometres does it travel in total?")
    steps = [f"First part: {s1} × {h1} = {d1} km.", f"Second part: {s2} × {h2} = {d2} km.", f"Total: {d1} + {d2} = {d1 + d2} km."]
    return question, steps, d1 + d2


def _reading(rng: random.Random) -> Problem:
    name = rng.choice(NAMES)
    per_day, days, done = rng.randint(8, 30), rng.randint(3, 12), rng.randint(10, 90)
    total = done + per_day * days
    question = (f"A book has {total} pages. {name} has already read {done} pages and reads {per_day} pages a day. "
                f"How many more days does {name} need to finish the book?")
    steps = [f"Pages left: {total} - {done} = {total - done}.", f"Days needed: {total - done} ÷ {per_day} = {days}."]
    return question, steps, days


def _sharing(rng: random.Random) -> Problem:
    name = rng.choice(NAMES)
    one, many = rng.choice(ITEMS[2:])
    friends, each, kept = rng.randint(2, 8), rng.randint(2, 12), rng.randint(1, 10)
    total = friends * each + kept
    question = (f"{name} has {total} {many}, keeps {kept} and shares the rest equally among {friends} friends. "
                f"How many {many} does each friend get?")
    steps = [f"{many.capitalize()} to share: {total} - {kept} = {total - kept}.", f"Each friend gets {total - kept} ÷ {friends} = {each}."]
    return question, steps, each


def _ages(rng: random.Random) -> Problem:
    a, b = rng.sample(NAMES, 2)
    young, gap, later = rng.randint(3, 30), rng.randint(2, 25), rng.randint(2, 15)
    future = young + gap + later
    question = f"{a} is {gap} years older than {b}. In {later} years, {a} will be {future} years old. How old is {b} now?"
    steps = [f"{a} is now {future} - {later} = {young + gap} years old.", f"{b} is {young + gap} - {gap} = {young} years old."]
    return question, steps, young


def _age_ratio(rng: random.Random) -> Problem:
    a, b = rng.sample(NAMES, 2)
    young, times = rng.randint(3, 20), rng.randint(2, 4)
    total = young * (times + 1)
    question = f"{a} is {times} times as old as {b}. Together their ages add up to {total} years. How old is {a}?"
    steps = [
        f"Together they are {times} + 1 = {times + 1} times {b}'s age.",
        f"{b} is {total} ÷ {times + 1} = {young} years old.",
        f"{a} is {times} × {young} = {times * young} years old.",
    ]
    return question, steps, times * young


def _bakery(rng: random.Random) -> Problem:
    trays, per_tray = rng.randint(3, 9), rng.randint(6, 24)
    made = trays * per_tray
    morning = rng.randrange(2 + made % 2, made - 1, 2)  # same parity as `made`, so half the rest is whole
    rest = made - morning
    question = (f"A bakery bakes {trays} trays of {per_tray} cookies. It sells {morning} cookies in the morning "
                "and half of the remaining cookies in the afternoon. How many cookies are left at the end of the day?")
    steps = [f"Cookies baked: {trays} × {per_tray} = {made}.", f"After the morning: {made} - {morning} = {rest}.",
             f"Sold in the afternoon: {rest} ÷ 2 = {rest // 2}.", f"Left: {rest} - {rest // 2} = {rest - rest // 2}."]
    return question, steps, rest - rest // 2


def _discount(rng: random.Random) -> Problem:
    price, percent = rng.randint(2, 20) * 20, rng.choice([10, 20, 25, 50])
    off = price * percent // 100
    question = f"A jacket costs ${price}. It is on sale for {percent}% off. What is the sale price in dollars?"
    steps = [f"The discount is {percent}% of ${price} = ${price} × {percent} ÷ 100 = ${off}.", f"The sale price is ${price} - ${off} = ${price - off}."]
    return question, steps, price - off


def _fencing(rng: random.Random) -> Problem:
    width, cost = rng.randint(3, 20), rng.randint(2, 9)
    length = width + rng.randint(1, 15)
    perimeter = 2 * (length + width)
    question = (f"A rectangular garden is {length} m long and {width} m wide. Fencing costs ${cost} per metre. "
                "How many dollars does it cost to fence the whole garden?")
    steps = [f"The perimeter is 2 × ({length} + {width}) = {perimeter} m.", f"The fence costs {perimeter} × ${cost} = ${perimeter * cost}."]
    return question, steps, perimeter * cost


TEMPLATES: dict[str, Callable[[random.Random], Problem]] = {
    "shopping": _shopping,
    "change": _change,
    "speed": _speed,
    "reading": _reading,
    "sharing": _sharing,
    "ages": _ages,
    "age-ratio": _age_ratio,
    "bakery": _bakery,
    "discount": _discount,
    "fencing": _fencing,
}


def solution(steps: list[str], answer: int) -> str:
    """The worked solution: one step per line, then `#### answer`."""
    return "\n".join([*steps, f"#### {answer}"])


def generate(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> list[dict]:
    """`count` problems as prompt-set rows {id, prompt, reference, answer, key_facts, split}; same seed, same rows."""
    names = list(TEMPLATES)
    rows, seen = [], set()
    for i in range(count):
        template = names[i % len(names)]
        attempt = 0
        while True:  # redraw a repeated question, so no problem sits in both splits
            question, steps, answer = TEMPLATES[template](random.Random(f"{seed}-{i}-{attempt}"))
            if question not in seen:
                break
            attempt += 1
        seen.add(question)
        ext_id = f"math-{seed}-{i:04d}"
        rows.append({
            "id": ext_id,
            "prompt": question,
            "reference": solution(steps, answer),
            "answer": str(answer),
            "key_facts": [[str(answer)]],
            "split": default_split(ext_id),
        })
    return rows


def to_jsonl(rows: list[dict]) -> str:
    """Rows as JSONL text, one object per line (the format of data/prompts/*.jsonl)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main(argv: list[str] | None = None) -> None:
    """`python -m tools.mathgen [--count N] [--seed S] [--write]`: print or write the math prompt set."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--write", action="store_true", help="write data/prompts/math.jsonl instead of printing")
    args = parser.parse_args(argv)
    text = to_jsonl(generate(args.count, args.seed))
    if args.write:
        path = Path(__file__).resolve().parent.parent / "data" / "prompts" / "math.jsonl"
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
