"""Run benchmarks by name: `python -m bench bus celery` (all when none is named)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

SKIP = {"common", "__main__"}


def main(names: list[str]) -> None:
    here = Path(__file__).resolve().parent
    known = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name not in SKIP)
    for name in names or known:
        if name not in known:
            sys.exit(f"no benchmark {name!r}; known: {', '.join(known)}")
        print(f"== bench {name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        if hasattr(module, "get_args_parser"):  # benchmarks with options run on their defaults
            module.main(module.get_args_parser().parse_args([]))
        else:
            module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
