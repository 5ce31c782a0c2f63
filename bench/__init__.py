"""
`python -m bench`: the scim-gateway benchmark.

It drives a running gateway over HTTP (or starts one itself with `--spawn`) with the request
patterns Entra ID and Okta send, and reports requests/s, latency percentiles, errors and the
gateway's peak RSS per workload (and, with `--backend brig`, brig-lite's calls per SCIM
operation), next to the throughput of a minimal aiohttp app (the "ceiling").
docs/performance.md explains how to run it and what it measured.

Modules, one job each:

- cli         argument parsing and the run plan (which scales, worker counts, workloads)
- runner      carries the plan out: seed, spawn, run each workload, collect the results
- population  the seeded users and groups (ids of user i, group g) and a sample of a live gateway's
- seeding     fills a gateway SQLite file directly, fast (1M users in about a minute)
- api_seeding brig mode: creates the users and groups through the SCIM API instead
- workloads   what each workload sends (Entra's and Okta's request shapes)
- loadgen     the load generator: aiohttp client processes, pinned to their own core
- wrk         the native load generator (--loadgen wrk): wrk and its Lua script for the reads
- postgres_store  --store postgres: a seeded store copied into a fresh PostgreSQL database
- procs       starting/stopping the gateway, brig-lite and the ceiling app; CPU and peak RSS from
              /proc; brig-lite's call count
- ceiling     the minimal aiohttp app that bounds what any aiohttp handler can do
- profile     optional py-spy sampling of the gateway during a workload, summarised
- report      statistics, the JSON document and the Markdown tables
"""
