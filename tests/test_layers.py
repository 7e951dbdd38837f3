"""The direction of imports (DESIGN.md): models import no other part; services import
neither the workers nor the chatbot; the chatbot's actions reach services only through
their public doors (a package's `__init__`, a top-level module, the event contract and
the settings tree). Read from the source with ast, so nothing is imported."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Shared code every part may import whole: the events and the settings (DESIGN.md).
SHARED = ("services.bus.events", "services.settings")


def imports(folder: str) -> Iterator[tuple[str, int, str]]:
    """(file, line, module) for every import in the .py files under `folder`, nested
    ones too; `from a import b` yields a.b as well as a, since b may be a module."""
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"no Python files under {folder}"
    for path in files:
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), where)):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield where, node.lineno, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                yield where, node.lineno, node.module
                for alias in node.names:
                    yield where, node.lineno, f"{node.module}.{alias.name}"


def under(module: str, *parts: str) -> bool:
    return any(module == part or module.startswith(f"{part}.") for part in parts)


def test_models_import_no_other_part() -> None:
    wrong = [f"{f}:{n} {m}" for f, n, m in imports("models") if under(m, "services", "workers", "chatbot")]
    assert wrong == []


def test_services_import_neither_workers_nor_chatbot() -> None:
    wrong = [f"{f}:{n} {m}" for f, n, m in imports("services") if under(m, "workers", "chatbot")]
    assert wrong == []


def is_module(module: str) -> bool:
    path = ROOT.joinpath(*module.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def is_door(module: str) -> bool:
    """services, services.X (a package's `__init__` or a top-level module), or the shared
    code; a name imported from a door (`from services.alerts import AlertStore`) too."""
    if not is_module(module):
        return is_door(module.rpartition(".")[0])
    return under(module, *SHARED) or module.count(".") <= 1


def test_the_actions_reach_services_through_public_doors() -> None:
    found = [(f, n, m) for f, n, m in imports("chatbot/actions") if under(m, "services")]
    assert found, "the actions import nothing from services: is the check still reading them?"
    wrong = [f"{f}:{n} {m}" for f, n, m in found if not is_door(m)]
    assert wrong == []
