"""Makes the packaged application icons from their one source, klezguard/resources/icons/klezguard.svg:
PNGs at 16..512 px (Linux menus and the AppStream metainfo), klezguard.ico (Windows) and klezguard.icns
(macOS), into packaging/icons/ (or the folder given). Run it after changing the SVG and commit the result;
tests/test_icons.py checks that the committed files still match the SVG.

Qt's SVG renderer (QtSvg, part of PySide6-Essentials) draws each size from the vector source, so small
sizes are crisp rather than scaled down; Pillow (the dist extra) packs those renders into ICO and ICNS."""

import argparse
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # the Windows format stops at 256
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def renders(sizes) -> dict[int, bytes]:
    """size -> PNG bytes of the application icon drawn at that size."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QIODevice
    from PySide6.QtGui import QGuiApplication

    from klezguard.gui.icons import icon_file, render_svg

    _app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - kept alive while drawing
    out = {}
    for size in sizes:
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        render_svg(icon_file("klezguard"), size).save(buffer, "PNG")
        out[size] = bytes(buffer.data().data())
    return out


def make(folder: Path) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    pngs = renders(sorted(set(PNG_SIZES) | set(ICO_SIZES) | set(ICNS_SIZES)))
    written = []
    for size in PNG_SIZES:
        path = folder / f"klezguard-{size}.png"
        path.write_bytes(pngs[size])
        written.append(path)
    images = {size: Image.open(io.BytesIO(data)).convert("RGBA") for size, data in pngs.items()}
    largest = images[max(ICO_SIZES)]
    largest.save(folder / "klezguard.ico", format="ICO", sizes=[(s, s) for s in ICO_SIZES],
                 append_images=[images[s] for s in ICO_SIZES if s != max(ICO_SIZES)])
    largest = images[max(ICNS_SIZES)]
    largest.save(folder / "klezguard.icns", format="ICNS",
                 append_images=[images[s] for s in ICNS_SIZES if s != max(ICNS_SIZES)])
    return [*written, folder / "klezguard.ico", folder / "klezguard.icns"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=ROOT / "packaging" / "icons")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    for path in make(args.folder):
        print(f"{path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
