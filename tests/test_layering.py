"""The architecture, checked: which layer may import which, only the GUI imports Qt, only the store speaks
SQL. Read from the source (AST), so a lazy import inside a function counts as much as one at the top."""

import ast
import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "klezguard"

# What each layer may import from klezguard (module prefixes). The domain (core, rules) knows nothing of
# mail servers, the store or the app; mail/ only reads and moves mail; the entry points (cli, gui) do each
# job through the application layer and touch below it only for data types and opening a connection.
ALLOWED = {
    "core": ["core"],
    "rules": ["core", "rules", "i18n", "__version__"],
    "store": ["store", "core", "paths", "errors"],
    "mail": ["mail", "core", "store", "paths", "errors", "i18n"],
    "application": ["application", "core", "rules", "mail", "store", "settings", "paths", "errors", "i18n"],
    "cli": ["cli", "application", "core.visible", "core.sources", "errors", "i18n", "logs", "report", "settings",
            "store.db", "mail.accounts", "mail.credentials", "mail.connection", "gui.app", "__version__"],
    "gui": ["gui", "application", "core.visible", "core.preview", "core.headers", "errors", "i18n", "logs", "paths",
            "report", "settings", "store.db", "mail.accounts", "autostart", "version", "launch"],
    "report": ["core", "i18n", "rules.engine"],
    "logs": ["core.visible", "paths"],
    "settings": ["i18n", "paths"],
    "autostart": ["paths", "i18n", "launch"],
    "launch": [],
    "version": [],
    "paths": [],
    "errors": [],
    "i18n": [],
    "__main__": ["cli"],
    "__init__": ["version"],
    "data": [],
}


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        yield path, parts[0]


def imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "klezguard":
                found += [a.name for a in node.names]
            elif node.module.startswith("klezguard."):
                found += [f"{node.module.removeprefix('klezguard.')}.{a.name}" for a in node.names]
            else:
                found.append("!" + node.module)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                found.append(name.removeprefix("klezguard.") if name.startswith("klezguard.") else "!" + name)
    return found


def test_each_layer_imports_only_what_it_may():
    wrong = []
    for path, layer in modules():
        assert layer in ALLOWED, f"{layer} is a new layer: say in ALLOWED what it may import"
        for name in imports(ast.parse(path.read_text())):
            if name.startswith("!"):
                continue
            if not any(name == p or name.startswith(p + ".") for p in ALLOWED[layer]):
                wrong.append(f"{path.relative_to(PACKAGE)} imports klezguard.{name}")
    assert wrong == []


def test_only_the_gui_imports_qt():
    wrong = [str(path.relative_to(PACKAGE)) for path, layer in modules() if layer != "gui"
             and any(n.startswith(("!PySide6", "!shiboken6")) for n in imports(ast.parse(path.read_text())))]
    assert wrong == []


SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA)\b.*\b(FROM|INTO|SET|TABLE|INDEX|WHERE|"
                 r"user_version|journal_mode)\b", re.S)
STORE_CALLS = {"execute", "executemany", "executescript", "query", "transaction", "cursor"}


def test_only_the_store_speaks_sql():
    wrong = []
    for path, layer in modules():
        if layer == "store":
            continue
        tree = ast.parse(path.read_text())
        where = path.relative_to(PACKAGE)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                wrong.append(f"{where}:{node.lineno} SQL text {node.value[:40]!r}")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in STORE_CALLS):
                wrong.append(f"{where}:{node.lineno} .{node.func.attr}()")
        if "!sqlite3" in imports(tree):
            wrong.append(f"{where} imports sqlite3")
    assert wrong == []


def test_the_sql_check_would_see_sql():
    assert SQL.search("SELECT id FROM messages WHERE account=?")
    assert SQL.search("UPDATE messages SET verdict=?")
    assert not SQL.search("Select a message to see what KlezGuard found.")


def test_core_imports_without_pyside6():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'shiboken6'):\n"
        "            raise ImportError('PySide6 is not allowed in the core')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import klezguard.cli, klezguard.report, klezguard.application.service\n"
        "from klezguard.rules.registry import all_rules\n"
        "assert len(all_rules()) > 0\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
