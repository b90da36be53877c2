"""make dist: KlezGuard as a self-contained program for the system this runs on (packaging/klezguard.spec).

Linux: dist/klezguard/ (the program `klezguard`, its libraries in _internal/, the menu entry, icons and
metainfo under share/, install.sh) and dist/klezguard-VERSION-linux-ARCH.tar.gz of it.
Windows: dist/klezguard/ and, where Inno Setup's compiler (iscc) is installed, the installer
dist/KlezGuard-VERSION-setup.exe (packaging/windows/klezguard.iss).
macOS: dist/KlezGuard.app.
Builds from the checkout this script is in, with the Python that runs it (which needs the dist extra)."""

import argparse
import platform
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "org.klezguard.KlezGuard"


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def linux_extras(bundle: Path) -> None:
    """The desktop integration beside the program, and install.sh that puts it in the user's menus."""
    share = bundle / "share"
    (share / "applications").mkdir(parents=True, exist_ok=True)
    (share / "metainfo").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "packaging" / f"{APP_ID}.desktop", share / "applications")
    shutil.copy2(ROOT / "packaging" / f"{APP_ID}.metainfo.xml", share / "metainfo")
    for png in (ROOT / "packaging" / "icons").glob("klezguard-*.png"):
        size = png.stem.split("-")[1]
        target = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target / f"{APP_ID}.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "klezguard" / "resources" / "icons" / "klezguard.svg", scalable / f"{APP_ID}.svg")
    shutil.copy2(ROOT / "packaging" / "linux" / "install.sh", bundle / "install.sh")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the result goes (default: dist/)")
    parser.add_argument("--no-archive", action="store_true", help="Linux: leave out the .tar.gz")
    args = parser.parse_args()
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print("make dist needs PyInstaller: pip install -e '.[dist]'", file=sys.stderr)
        return 2
    dist, work = args.dist.resolve(), ROOT / "build" / "pyinstaller"
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(work), str(ROOT / "packaging" / "klezguard.spec")],
                   check=True, cwd=ROOT)
    bundle = dist / "klezguard"
    made = [bundle]
    if sys.platform.startswith("linux"):
        linux_extras(bundle)
        if not args.no_archive:
            archive = dist / f"klezguard-{version()}-linux-{platform.machine()}.tar.gz"
            with tarfile.open(archive, "w:gz") as tar:
                tar.add(bundle, arcname=f"klezguard-{version()}")
            made.append(archive)
    elif sys.platform == "win32":
        iscc = shutil.which("iscc") or shutil.which("ISCC")
        if iscc:
            subprocess.run([iscc, f"/DAppVersion={version()}", f"/DDist={dist}", f"/O{dist}",
                            str(ROOT / "packaging" / "windows" / "klezguard.iss")], check=True)
            made.append(dist / f"KlezGuard-{version()}-setup.exe")
        else:
            print("Inno Setup (iscc) is not installed: only the folder was made", file=sys.stderr)
    elif sys.platform == "darwin":
        made.append(dist / "KlezGuard.app")
    for path in made:
        size = folder_size(path) if path.is_dir() else path.stat().st_size
        print(f"{path}: {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
