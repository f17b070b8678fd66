"""`python -m backend.contract export [DIR]` writes the documents; `check [DIR]` fails on drift."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backend.contract.documents import CONTRACT_DIR, render_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.contract", description=__doc__)
    parser.add_argument("command", choices=["export", "check"])
    parser.add_argument("directory", nargs="?", type=Path, default=CONTRACT_DIR)
    args = parser.parse_args(argv)
    stale = []
    for name, text in render_all().items():
        path = args.directory / name
        if args.command == "export":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(str(path))
    if stale:
        print(
            f"out of date: {', '.join(stale)}; run `python -m backend.contract export`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
