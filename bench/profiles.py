"""Read py-spy's collapsed stacks (`--format raw`): `python -m bench.profiles FILE [--top N]`.

Prints the share of samples each frame takes by itself (self) and with what it calls (inclusive).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def shares(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    """(samples, self counts, inclusive counts) per frame of a collapsed-stack file."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    return total, own, inclusive


def report(path: Path, top: int = 20) -> str:
    total, own, inclusive = shares(path)
    if not total:
        return f"{path}: no samples"
    lines = [f"{path.name}: {total} samples", "self:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines.append("inclusive:")
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top * 2)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    for path in args.files:
        print(report(path, args.top))


if __name__ == "__main__":
    main()
