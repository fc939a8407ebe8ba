"""What the Python reference benchmarks share: the fixture images and timing."""
import glob
import os
import time

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "lfw-mini")


def fixture_paths():
    """The 250x250 LFW images of fixtures/lfw-mini, in path order (as the Rust benches)."""
    return sorted(glob.glob(os.path.join(FIXTURES, "*", "*.jpg")))


def best_of(fn, repeats=5):
    """The fastest of `repeats` runs of fn(), in seconds."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)
