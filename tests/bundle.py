"""Building and running the Linux bundle as a user would, for tests/test_bundle.py and
benchmarks/bench_bundle.py: a clean copy of the checkout's tracked files, `make dist` in it, and the
bundle started with a bare environment (no virtual environment, no PYTHONPATH) from a folder outside."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BARE_PATH = "/usr/local/bin:/usr/bin:/bin"


def clean_copy(target: Path) -> Path:
    """The files git tracks (as they are in the work tree), nothing else: no .venv, no build, no egg-info."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached"], cwd=ROOT, capture_output=True, check=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def make_dist(checkout: Path, python: str = sys.executable, timeout: int = 1200) -> subprocess.CompletedProcess:
    """`make dist` in the copy, with this Python (it has the dist extra) instead of a fresh .venv."""
    stamp = checkout / ".dist-stamp"
    stamp.touch()  # newer than pyproject.toml: make takes the environment as set up
    return subprocess.run(["make", "-C", str(checkout), "dist", f"PY={python}", f"STAMP={stamp}"],
                          capture_output=True, text=True, timeout=timeout)


def bare_env(home: Path, **extra: str) -> dict[str, str]:
    """What `env -i` leaves plus a minimal PATH, a home and a UTF-8 locale: no VIRTUAL_ENV, no PYTHONPATH,
    no display unless given."""
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": BARE_PATH, "HOME": str(home), "LANG": "C.UTF-8", **extra}


def run(program: Path, *args: str, env: dict, cwd: Path, timeout: int = 120):
    """(the finished process, its wall-clock seconds)"""
    start = time.perf_counter()
    proc = subprocess.run([str(program), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return proc, time.perf_counter() - start


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def windows(display: str) -> list[str]:
    """The titles of the top-level windows on an X display (xwininfo)."""
    env = {"DISPLAY": display, "PATH": BARE_PATH, "LANG": "C.UTF-8"}  # a UTF-8 locale to print titles
    out = subprocess.run(["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True).stdout
    return [line.split('"')[1] for line in out.splitlines() if line.count('"') >= 2]


def processes_of(program: Path) -> list[int]:
    """The running processes whose program is `program` (the app and the helpers it started)."""
    found = []
    for exe in Path("/proc").glob("[0-9]*/exe"):
        try:
            if Path(os.readlink(exe)) == program.resolve():
                found.append(int(exe.parent.name))
        except OSError:
            continue
    return found


def start_window(program: Path, env: dict, cwd: Path, display: str, timeout: float = 90):
    """Starts `program --demo` on the display and waits for its window: (process, seconds to the window)."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(program), "--demo"], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    while time.perf_counter() - start < timeout and proc.poll() is None:
        if any("demo mailbox" in title for title in windows(display)):
            return proc, time.perf_counter() - start
        time.sleep(0.05)
    return proc, None


def stop(proc: subprocess.Popen) -> tuple[str, str]:
    """Ends the process group this module started (the app and its helpers) and returns its output."""
    if proc.poll() is None:
        os.killpg(proc.pid, 15)
    try:
        return proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        return proc.communicate()
