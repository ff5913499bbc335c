"""One run: every chosen target through every chosen scenario, results to JSON, docs updated.

python -m bench run --targets app,tutorial,bare,websockets --scenarios all
"""

import asyncio
import datetime
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import machine, report
from bench.deployment import Deployment, deploy
from bench.fleet import ClientError
from bench.processes import server, server_log
from bench.procstat import wait_for_quiet
from bench.report_rows import one_line
from bench.scenarios import SCENARIOS
from bench.serverlog import log_findings
from bench.services import redis_flush
from bench.sizes import Sizes
from bench.stage import Stage, warm_up
from bench.targets import ROOT, Target, checkout_state

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
QUICK_RESULTS_DIR = RESULTS_DIR / "quick"
DOCS = BENCH_DIR.parent / "docs" / "benchmarks.md"
# Other processes on the machine (a shared one) may use this much of a core when a scenario
# starts; above it the runner waits, up to Sizes.wait_for_quiet_s, and records what it saw.
QUIET_MACHINE_PERCENT = 20.0


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def scenario_timeout(sizes: Sizes) -> float:
    """The most one scenario may take, all phases together."""
    phases = sizes.idle_hold_s + 2 * (sizes.send_s + sizes.drain_s) + sizes.wait_for_quiet_s
    return 180 + sizes.idle_connections / 20 + phases


async def run_scenario(deployment: Deployment, name: str, sizes: Sizes) -> dict[str, Any]:
    target = deployment.target
    if target.uses_redis:
        redis_flush(deployment.redis_db)
    started = time.monotonic()
    result: dict[str, Any]
    try:
        with server(deployment, name) as running:
            stage = Stage(
                deployment=deployment,
                server=running,
                sizes=sizes,
                log=deployment.log_dir / f"{target.name}-{name}-clients.log",
            )
            try:
                async with asyncio.timeout(scenario_timeout(sizes)):
                    await warm_up(stage)
                    quiet = await wait_for_quiet(
                        [running.pid, os.getpid()],
                        below_percent=QUIET_MACHINE_PERCENT,
                        at_most_s=sizes.wait_for_quiet_s,
                    )
                    result = {"ok": True, **await SCENARIOS[name](stage)}
                    result["machine_before"] = quiet
            except (ClientError, TimeoutError, OSError) as error:
                result = {"ok": False, "error": f"{type(error).__name__}: {error}"}
            result["server_exit_code"] = running.process.poll()
    except (RuntimeError, TimeoutError) as error:  # the server did not start
        result = {"ok": False, "error": f"server: {type(error).__name__}: {error}"}
    result["seconds"] = round(time.monotonic() - started, 1)
    log = server_log(deployment, name)
    result["server_log"] = log_findings(log.read_text(errors="replace") if log.exists() else "")
    return result


async def run_target(
    target: Target,
    scenarios: Sequence[str],
    *,
    sizes: Sizes,
    redis_db: int,
    log_dir: Path,
    extra_env: Mapping[str, str],
) -> dict[str, Any]:
    say(f"{target.name}: preparing")
    results: dict[str, Any] = {}
    with deploy(
        target,
        users=sizes.users,
        rooms=sizes.rooms,
        redis_db=redis_db,
        log_dir=log_dir,
        extra_env=extra_env,
    ) as deployment:
        say(f"{target.name}: ready in {deployment.setup_seconds} s")
        for name in scenarios:
            say(f"{target.name}: {name}")
            results[name] = await run_scenario(deployment, name, sizes)
            say(f"{target.name}: {name}: {one_line(name, results[name])}")
    return results


def run(
    *,
    targets: Sequence[Target],
    scenarios: Sequence[str],
    sizes: Sizes,
    quick: bool,
    redis_db: int,
    results_dir: Path,
    docs: Path | None,
    extra_env: Mapping[str, str],
) -> list[Path]:
    started = datetime.datetime.now(datetime.UTC)
    run_id = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    results_dir.mkdir(parents=True, exist_ok=True)
    log_dir = Path(tempfile.mkdtemp(prefix=f"bench-{started:%Y%m%d-%H%M%S}-"))
    say(f"run {run_id}; server and client logs in {log_dir}")
    described = machine.describe()
    written: list[Path] = []
    for target in targets:
        name = target.name
        began = time.monotonic()
        results = asyncio.run(
            run_target(
                target,
                scenarios,
                sizes=sizes,
                redis_db=redis_db,
                log_dir=log_dir,
                extra_env=extra_env,
            )
        )
        document = {
            "run": run_id,
            "quick": quick,
            "target": name,
            "title": target.title,
            "command": target.command(0)[1:],
            "root": "." if target.root == ROOT else f"exported commit {name.partition('@')[2]}",
            "commit": checkout_state() if target.root == ROOT else name.partition("@")[2],
            "extra_env": dict(extra_env),
            "machine": described,
            "sizes": asdict(sizes),
            "scenarios": results,
            "seconds": round(time.monotonic() - began, 1),
        }
        path = results_dir / f"{started:%Y-%m-%d}-{name}.json"
        path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
        written.append(path)
        say(f"{name}: wrote {path}")
    documents = [json.loads(path.read_text()) for path in written]
    if docs is None:
        print(report.tables(documents))
    else:
        # A full run shows the newest result of every target, so re-running one keeps the rest.
        report.update_docs(docs, report.tables(documents if quick else report.latest(results_dir)))
        say(f"updated {docs}")
    return written
