"""The domain must stay importable without the web/DB/worker stack (cosmicpython
layering).  import-linter enforces this in CI; this is the fast local check."""
import ast
import sys
from pathlib import Path

import services.enrollment.domain as domain_pkg

ALLOWED_THIRD_PARTY: set[str] = set()  # stdlib only


def test_domain_imports_only_stdlib_and_itself():
    root = Path(domain_pkg.__file__).parent
    stdlib = set(sys.stdlib_module_names)
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in stdlib or top in ALLOWED_THIRD_PARTY or top == "__future__", (path.name, name)
