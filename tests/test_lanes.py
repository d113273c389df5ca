"""The Annotate handlers' lanes: each caps its own threads, and a full lane does not hold up another."""

import threading

import anyio

from ui.lanes import Lane


def test_a_lane_runs_at_most_its_threads_and_a_vote_passes_a_full_fetch_lane():
    fetches, votes = Lane(2), Lane(1)
    running, most, lock = [0], [0], threading.Lock()
    release = threading.Event()
    finished: list[str] = []

    def fetch():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1
        finished.append("fetch")

    def vote():
        finished.append("vote")

    async def main():
        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(fetches.run, fetch)
            with anyio.fail_after(5):
                while running[0] < 2:  # the fetch lane is full, four calls wait for it
                    await anyio.sleep(0.01)
            with anyio.fail_after(2):
                await votes.run(vote)
            assert finished == ["vote"]
            release.set()

    anyio.run(main)
    assert most[0] == 2 and finished.count("fetch") == 6
