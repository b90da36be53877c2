"""The core must work without a display: importing it must not pull in PySide6."""

import subprocess
import sys


def test_core_imports_without_pyside6():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'shiboken6'):\n"
        "            raise ImportError('PySide6 is not allowed in the core')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import klezguard.cli, klezguard.report\n"
        "from klezguard.rules.registry import all_rules\n"
        "assert len(all_rules()) > 0\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
