"""
`python -m bench`: parse the command line into a `runner.Plan`, run it, print the Markdown table,
write the JSON, and exit 0 only when every workload ran and none had an error.

Examples (docs/performance.md has more):

    python -m bench --spawn --smoke --json-out /tmp/smoke.json
    python -m bench --spawn --smoke --backend brig
    python -m bench --spawn --loadgen wrk --workload ceiling,get-by-id,filter-username,okta-import --warmup 2
    python -m bench --spawn --scales 10000,100000 --workers 1,2 --concurrency 32 --duration 10
    python -m bench --url http://127.0.0.1:8080 --token "$TOKEN" --gateway-pid 1234 --workload get-by-id
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import procs, report, wrk
from bench.runner import Plan, run
from bench.workloads import ALL

SMOKE = {"scales": (200, 1000), "duration": 1.0, "warmup": 0.2, "concurrency": 8}
BRIG_SMOKE_SCALES = (200,)  # seeding goes through the API: one small scale keeps the smoke short
DEFAULT_SCALE = {"embedded": 10_000, "brig": 1_000}


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v.replace("_", "")) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected numbers >= 1, got {text!r}")
    return values


def _workloads(text: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = [n for n in names if n not in (*ALL, "all")]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(ALL)}, all")
    return ALL if "all" in names else names


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark a scim-gateway with Entra ID and Okta request patterns.",
        epilog=f"Workloads: {', '.join(ALL)}. See docs/performance.md.",
    )
    target = p.add_argument_group("which gateway")
    target.add_argument("--spawn", action="store_true",
                        help="seed a store and start the gateway (pinned with taskset -c 0) for each scale and worker count")  # fmt: skip
    target.add_argument("--url", help="without --spawn: the running gateway, e.g. http://127.0.0.1:8080")
    target.add_argument("--token", help="without --spawn: a SCIM token of the team to use (the write workloads change its users!)")
    target.add_argument("--gateway-pid", type=int, help="without --spawn: the gateway's pid, for its CPU and peak RSS")
    target.add_argument("--backend", choices=("embedded", "brig"), default="embedded",
                        help="with --spawn: embedded (a seeded store) or brig (a brig-lite process behind the gateway, "
                             "seeded through the API; reports backend calls per SCIM operation)")  # fmt: skip

    target.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite",
                        help="with --spawn and the embedded backend: the gateway's store; postgres copies each seeded "
                             "store into a fresh database of --postgres-dsn (scim-gateway store copy)")  # fmt: skip
    target.add_argument("--postgres-dsn", metavar="URL",
                        help="with --store postgres: a server and database where the bench may create and drop "
                             "databases, e.g. postgresql://postgres@127.0.0.1:5432/postgres")  # fmt: skip

    what = p.add_argument_group("what to run")
    what.add_argument("--workload", type=_workloads, default=ALL, metavar="NAME[,NAME]",
                      help="comma-separated workloads to run (default: all)")  # fmt: skip
    what.add_argument("--seed-users", type=int, metavar="N",
                      help="with --spawn: users to seed (one scale; default 10000, with --backend brig 1000)")  # fmt: skip
    what.add_argument("--scales", type=_ints, metavar="N,N,...", help="with --spawn: several seeded sizes, e.g. 10000,100000,1000000")
    what.add_argument("--workers", type=_ints, default=(1,), metavar="N[,N]",
                      help="with --spawn: listen.workers of the gateway (and processes of the ceiling); >1 is not pinned")  # fmt: skip

    how = p.add_argument_group("how hard")
    how.add_argument("--loadgen", choices=("aiohttp", "wrk"), default="aiohttp",
                     help="load generator: aiohttp client processes (default), or wrk for the ceiling and the read "
                          "workloads (get-by-id, filter-username, okta-import; the writes keep the aiohttp client), "
                          "so that the gateway, not the client, is the limit (apt-get install -y wrk)")  # fmt: skip
    how.add_argument("--concurrency", type=int, metavar="N",
                     help="requests in flight at once (default 32; with --loadgen wrk 16: wrk -t1 -c16)")  # fmt: skip
    how.add_argument("--duration", type=float, metavar="S", help="seconds measured per workload (default 10)")
    how.add_argument("--requests", type=int, metavar="N", help="operations per workload instead of --duration")
    how.add_argument("--warmup", type=float, metavar="S", help="unmeasured seconds before each workload (default 1)")
    how.add_argument("--client-processes", type=int, default=1, metavar="N", help="load-generator processes (default 1)")
    how.add_argument("--quiet-wait", type=float, default=0.0, metavar="S",
                     help="before each workload wait up to S s until the machine is idle (shared machines)")  # fmt: skip
    how.add_argument("--retry-noisy", type=int, default=0, metavar="K",
                     help="measure a workload again (up to K times) when other processes used > 10%% CPU meanwhile; keep the least disturbed")  # fmt: skip
    how.add_argument("--ceiling-beside", action="store_true",
                     help="with the ceiling workload: measure the ceiling again right before each gateway workload and "
                          "report that workload's share of it (the machine's speed drifts within a run)")  # fmt: skip
    how.add_argument("--no-pin", action="store_true", help="do not pin the server to core 0 and the client to core 1")

    out = p.add_argument_group("output")
    out.add_argument("--json-out", type=Path, metavar="FILE", help="write the results as JSON")
    out.add_argument("--work-dir", type=Path, metavar="DIR",
                     help="keep seeded stores, gateway logs and profiles here (reused seeds: same DIR, same scale)")  # fmt: skip
    out.add_argument("--gateway-log-level", default="info", choices=("debug", "info", "warning", "error"),
                     help="log.level of the spawned gateway (default info: one access line per request, as deployed)")  # fmt: skip
    out.add_argument("--profile", nargs="?", const="threads", choices=("threads", "gil"),
                     help="sample the gateway with py-spy during each workload: all busy threads (default) or only the GIL holder")  # fmt: skip
    p.add_argument("--smoke", action="store_true",
                   help="a quick check that everything works: scales 200,1000 (brig: 200), 1 s per workload, concurrency 8")  # fmt: skip
    return p


def plan_from(args: argparse.Namespace, p: argparse.ArgumentParser) -> Plan:
    if args.spawn and args.url:
        p.error("--spawn starts its own gateway; leave out --url")
    if not args.spawn and not (args.url and args.token) and set(args.workload) != {"ceiling"}:
        p.error("give --spawn, or --url and --token of a running gateway")
    if not args.spawn and (args.seed_users or args.scales):
        p.error("--seed-users/--scales write the store before the gateway starts: they need --spawn")
    if args.seed_users and args.scales:
        p.error("give --seed-users or --scales, not both")
    if args.backend == "brig" and not args.spawn:
        p.error("--backend brig starts brig-lite and a gateway in front of it: it needs --spawn")
    if args.duration is not None and args.requests is not None:
        p.error("give --duration or --requests, not both")
    smoke = dict(SMOKE, scales=BRIG_SMOKE_SCALES if args.backend == "brig" else SMOKE["scales"]) if args.smoke else {}
    scales = args.scales or ((args.seed_users,) if args.seed_users else smoke.get("scales", (DEFAULT_SCALE[args.backend],)))
    requests = args.requests
    duration = None if requests is not None else (args.duration or smoke.get("duration", 10.0))
    if args.store == "postgres" and (not args.spawn or args.backend != "embedded" or not args.postgres_dsn):
        p.error("--store postgres needs --spawn, the embedded backend and --postgres-dsn")
    if args.loadgen == "wrk":
        if args.requests is not None:
            p.error("--loadgen wrk runs for a --duration, not a number of --requests")
        if args.client_processes != 1:
            p.error("--loadgen wrk is one wrk process with one thread (wrk -t1); leave out --client-processes")
        wrk.require_wrk()  # exits saying how to install it
    pin = not args.no_pin and procs.can_pin()
    if not args.no_pin and not pin:
        print("bench: cannot pin (needs taskset and cores 0 and 1); running unpinned", file=sys.stderr)
    return Plan(
        workloads=args.workload,
        concurrency=args.concurrency or (wrk.DEFAULT_CONCURRENCY if args.loadgen == "wrk" else smoke.get("concurrency", 32)),
        duration=duration,
        requests=requests,
        warmup=args.warmup if args.warmup is not None else smoke.get("warmup", 1.0),
        client_processes=args.client_processes,
        pin=pin,
        spawn=args.spawn,
        scales=scales if args.spawn else (),
        workers=args.workers if args.spawn else (1,),
        url=args.url.rstrip("/") if args.url else None,
        token=args.token,
        gateway_pid=args.gateway_pid,
        work_dir=args.work_dir,
        log_level=args.gateway_log_level,
        profile=args.profile,
        quiet_wait=args.quiet_wait,
        retry_noisy=args.retry_noisy,
        ceiling_beside=args.ceiling_beside,
        backend=args.backend,
        loadgen=args.loadgen,
        store=args.store,
        postgres_dsn=args.postgres_dsn,
    )


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    plan = plan_from(args, p)
    doc = run(plan)
    doc["command"] = "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.json_out:
        report.write_json(doc, args.json_out)
    print(report.markdown(doc))
    for name, summary in doc["profiles"].items():
        print(report.profile_markdown(name, summary))
    return 0 if _all_clean(doc) else 1


def _all_clean(doc: dict) -> bool:
    """Every workload ran (requests > 0) with no error."""
    results = list(doc["ceiling"].values()) + [r for run in doc["runs"] for r in run["results"].values()]
    return bool(results) and all(r["requests"] > 0 and r["errors"] == 0 for r in results)
