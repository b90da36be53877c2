"""Size and start-up time of the Linux bundle (make dist), run as a user runs it: from a folder outside the
repository with a bare environment (no virtual environment, no PYTHONPATH). Prints figures; nothing is
asserted (tests/test_bundle.py checks that the bundle works).

    .venv/bin/python benchmarks/bench_bundle.py              # the bundle in dist/, built first if missing
    .venv/bin/python benchmarks/bench_bundle.py --build      # a fresh build from a clean copy of the checkout
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import bundle  # noqa: E402
from tests.gui.xvfb import VirtualDisplay  # noqa: E402


def timed(program: Path, *args: str, env: dict, cwd: Path, times: int) -> list[float]:
    out = []
    for _ in range(times):
        proc, seconds = bundle.run(program, *args, env=env, cwd=cwd)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{program} {' '.join(args)} failed: {proc.stderr[-1000:]}")
        out.append(seconds)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "klezguard")
    parser.add_argument("--build", action="store_true", help="build from a clean copy of the checkout first")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="klezguard-bench-") as temp:
        work = Path(temp)
        folder = args.bundle
        if args.build or not (folder / "klezguard").exists():
            checkout = bundle.clean_copy(work / "checkout")
            start = time.perf_counter()
            built = bundle.make_dist(checkout)
            if built.returncode:
                raise SystemExit(built.stdout[-2000:] + built.stderr[-2000:])
            print(f"build (make dist on a clean copy): {time.perf_counter() - start:.0f} s")
            folder = work / "klezguard"
            shutil.move(checkout / "dist" / "klezguard", folder)
            archives = list((checkout / "dist").glob("*.tar.gz"))
        else:
            archives = list(folder.parent.glob("klezguard-*.tar.gz"))
        program = folder / "klezguard"
        files = sum(1 for p in folder.rglob("*") if p.is_file())
        print(f"bundle: {bundle.folder_size(folder) / 1e6:.1f} MB in {files:,} files ({folder})")
        for archive in archives:
            print(f"archive: {archive.stat().st_size / 1e6:.1f} MB ({archive.name})")
        outside = work / "elsewhere"
        outside.mkdir()
        env = bundle.bare_env(work / "home")
        message = next((folder / "_internal" / "klezguard" / "resources" / "demo" / "inbox").glob("04-*.eml"))
        for label, argv in (("klezguard --version", ["--version"]), ("klezguard check (one message)",
                                                                     ["check", str(message)]),
                            ("klezguard --demo (text report, 27 messages)", ["--demo"])):
            runs = timed(program, *argv, env=env, cwd=outside, times=args.runs)
            print(f"{label}: median {statistics.median(runs):.2f} s, first {runs[0]:.2f} s, "
                  f"min {min(runs):.2f} s ({args.runs} runs)")
        if VirtualDisplay.available() and shutil.which("xwininfo"):
            seconds = []
            for _ in range(3):
                with VirtualDisplay(tray=False) as display:
                    shown_env = bundle.bare_env(work / "home", DISPLAY=display.display)
                    proc, to_window = bundle.start_window(program, shown_env, outside, display.display)
                    bundle.stop(proc)
                if to_window is None:
                    raise SystemExit("the window did not appear")
                seconds.append(to_window)
            print(f"klezguard --demo until its window is on screen (Xvfb): median {statistics.median(seconds):.2f} s, "
                  f"min {min(seconds):.2f} s (3 runs)")
        else:
            print("window start-up not measured: Xvfb or xwininfo missing (scripts/system-deps.sh installs them)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
