"""A virtual X display (Xvfb) with a small system tray (trayer), for the tests and screenshots that need a
real window system. Nothing here is KlezGuard code."""

import os
import shutil
import subprocess
import time


class VirtualDisplay:
    def __init__(self, width: int = 1280, height: int = 800, tray: bool = True):
        self.size = (width, height)
        self.tray = tray
        self.procs: list[subprocess.Popen] = []
        self.display = ""

    @staticmethod
    def available() -> bool:
        return bool(shutil.which("Xvfb")) and bool(shutil.which("trayer"))

    def __enter__(self) -> "VirtualDisplay":
        read, write = os.pipe()
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{self.size[0]}x{self.size[1]}x24", "-nolisten",
             "tcp"], pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        number = b""
        while not number.endswith(b"\n"):
            chunk = os.read(read, 16)
            if not chunk:
                break
            number += chunk
        os.close(read)
        self.procs.append(xvfb)
        self.display = ":" + number.decode().strip()
        if self.tray:
            self.procs.append(subprocess.Popen(
                ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "120",
                 "--height", "24", "--SetDockType", "true"], env=self.env(), stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
            time.sleep(0.3)
        return self

    def env(self, **extra) -> dict:
        env = dict(os.environ, DISPLAY=self.display, QT_QPA_PLATFORM="xcb", **extra)
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
