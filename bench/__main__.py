"""python -m bench run | report — see docs/benchmarks.md."""

import argparse
import contextlib
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from bench import report, runner
from bench.scenarios import SCENARIOS
from bench.sizes import FULL, QUICK, Sizes
from bench.targets import TARGETS, app_at


def names(raw: str, known: dict[str, object], what: str) -> list[str]:
    if raw == "none" and what == "target":
        return []  # only the --app-ref commits
    chosen = list(known) if raw == "all" else [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in known]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(unknown) or raw!r}; choose from {', '.join(known)} or all"
        )
    return chosen


def env_pair(raw: str) -> tuple[str, str]:
    key, sep, value = raw.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {raw!r}")
    return key, value


def with_sizes(sizes: Sizes, pairs: list[tuple[str, str]]) -> Sizes:
    """`sizes` with the named fields changed, each read as its field's type (int or float)."""
    kinds = {field.name: field.type for field in dataclasses.fields(sizes)}
    changes: dict[str, Any] = {}
    for key, raw in pairs:
        kind = kinds.get(key)
        if not isinstance(kind, type):
            raise argparse.ArgumentTypeError(f"no size named {key!r}: {', '.join(sorted(kinds))}")
        try:
            changes[key] = kind(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{key} must be {kind.__name__}, got {raw!r}"
            ) from None
    return dataclasses.replace(sizes, **changes)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the benchmark, write results and the docs")
    run.add_argument(
        "--targets",
        default="all",
        help=f"comma-separated: {', '.join(TARGETS)}; or all; or none (only --app-ref)",
    )
    run.add_argument("--scenarios", default="all", help=f"comma-separated: {', '.join(SCENARIOS)}")
    run.add_argument(
        "--app-ref",
        action="append",
        default=[],
        metavar="GIT_REF",
        help="also measure the project as it was at this commit (e.g. before a change)",
    )
    run.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    run.add_argument("--clients", type=int, default=None, help="client processes (default 2)")
    run.add_argument(
        "--wait-for-quiet",
        type=float,
        default=None,
        metavar="SECONDS",
        help="before each scenario, wait at most this long for other processes to calm down "
        "(default 60, quick 5; 0 to not measure)",
    )
    run.add_argument("--redis-db", type=int, default=12, help="Redis database to use and flush")
    run.add_argument("--results-dir", type=Path, default=None)
    run.add_argument(
        "--docs",
        type=Path,
        default=None,
        help="markdown file to update (default docs/benchmarks.md; quick runs print instead)",
    )
    run.add_argument(
        "--env",
        type=env_pair,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the servers, e.g. CONN_MAX_AGE=60 (repeatable)",
    )
    run.add_argument(
        "--size",
        type=env_pair,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change one of the sizes (bench/sizes.py), e.g. storm_connections=10000 (repeatable)",
    )
    again = commands.add_parser("report", help="rewrite the docs from stored results")
    again.add_argument("--results-dir", type=Path, default=runner.RESULTS_DIR)
    again.add_argument("--docs", type=Path, default=runner.DOCS)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "report":
        report.update_docs(args.docs, report.tables(report.latest(args.results_dir)))
        return 0
    try:
        targets = names(args.targets, dict(TARGETS), "target")
        scenarios = names(args.scenarios, dict(SCENARIOS), "scenario")
        sizes = with_sizes(QUICK if args.quick else FULL, args.size)
    except argparse.ArgumentTypeError as error:
        print(error, file=sys.stderr)
        return 2
    if args.clients:
        sizes = dataclasses.replace(sizes, clients=args.clients)
    if args.wait_for_quiet is not None:
        sizes = dataclasses.replace(sizes, wait_for_quiet_s=args.wait_for_quiet)
    default_dir = runner.QUICK_RESULTS_DIR if args.quick else runner.RESULTS_DIR
    results_dir = args.results_dir or default_dir
    docs = args.docs or (None if args.quick else runner.DOCS)
    with contextlib.ExitStack() as stack:
        chosen = [TARGETS[name] for name in targets]
        for ref in args.app_ref:
            earlier = stack.enter_context(app_at(ref))
            chosen.insert(1 if "app" in targets else 0, earlier)
        written = runner.run(
            targets=chosen,
            scenarios=scenarios,
            sizes=sizes,
            quick=args.quick,
            redis_db=args.redis_db,
            results_dir=results_dir,
            docs=docs,
            extra_env=dict(args.env),
        )
    failed = [
        f"{path.stem}: {name}"
        for path in written
        for name, result in json.loads(path.read_text())["scenarios"].items()
        if not result.get("ok")
    ]
    for line in failed:
        print(f"failed scenario {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
