#!/usr/bin/env python3
"""Turns one bench/run.sh run (meta KEY=VALUE lines, results.tsv, ceilings.tsv) into markdown."""
import json
import sys

meta = {}
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        if "=" in line:
            k, v = line.rstrip("\n").split("=", 1)
            meta[k] = v

COLS = ["scenario", "conns", "rate", "p50", "p99", "p999", "non2xx", "sock_err", "rss_mb",
        "cpu", "mcpu", "wcpu", "load", "valid"]
rows = []
with open(sys.argv[2], encoding="utf-8") as f:
    for line in f:
        parts = line.rstrip("\n").split("\t")
        if len(parts) == len(COLS):
            rows.append(dict(zip(COLS, parts)))
ceilings = {}
with open(sys.argv[3], encoding="utf-8") as f:
    for line in f:
        p = line.rstrip("\n").split("\t")
        if len(p) >= 6:
            ceilings[p[0]] = {"clients": p[1], "tps": p[2], "lat": p[3], "failed": p[4], "load": p[5],
                              "p50": p[6] if len(p) > 6 else "", "p99": p[7] if len(p) > 7 else ""}

by = {r["scenario"]: r for r in rows}
# PostgreSQL's own ceilings for the lean SQL of each hot endpoint (bench/reference/ceilings.sh).
lean = {}
if len(sys.argv) > 4:
    with open(sys.argv[4], encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) == 2:
                lean[p[0]] = p[1]


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


out = []
w = out.append
w(f"# leadgate benchmark — {meta.get('date', '')}")
w("")
w(f"- commit: `{meta.get('commit', '')}`; command: `{meta.get('command', '').strip()}`"
  + (" (quick mode: short runs, fewer seeded leads — not for the record)"
     if meta.get("quick") == "1" else ""))
w(f"- machine: {meta.get('cpu', '')}, {meta.get('cores', '')} cores, {meta.get('ram', '')} RAM, "
  f"Linux {meta.get('kernel', '')}; load generator, PostgreSQL, nginx and leadgate share it")
w(f"- PostgreSQL: {meta.get('pg', '')}; pg_test_fsync fdatasync: {meta.get('fsync_rate', '?')} ops/s")
w(f"- leadgate: release build, PostgreSQL store, real HTTP partner clients against nginx fakes; "
  f"{meta.get('leadgate_env', '').strip() or 'default LEADGATE_THREADS / LEADGATE_DB_THREADS'}; "
  f"{meta.get('duration', '')} s per run")
w("")
w("## Scenarios")
w("")
w("Latencies in ms (wrk, closed loop unless *paced*); RSS = leadgate's peak (VmHWM, reset before "
  "each run); CPU = leadgate's utime+stime ÷ wall time (200 % = both cores); machine = the whole "
  "machine's busy CPU meanwhile (leadgate, PostgreSQL, wrk, nginx; 200 % = saturated); wrk = the "
  "load generator's own share of it; load = 1-min load average at the start.")
w("")
w("| scenario | conns | req/s | p50 | p99 | p99.9 | non-2xx | socket errors | peak RSS MB | CPU % | machine CPU % | wrk CPU % | load | run |")
w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for r in rows:
    w(f"| {r['scenario']} | {r['conns']} | {r['rate']} | {r['p50']} | {r['p99']} | {r['p999']} | "
      f"{r['non2xx']} | {r['sock_err']} | {r['rss_mb']} | {r['cpu']} | {r['mcpu']} | {r['wcpu']} | "
      f"{r['load']} | {r['valid']} |")
w("")
if ceilings:
    w("## Ceiling: pgbench running leadgate's own SQL")
    w("")
    w("| SQL of | clients | pgbench tx/s | p50 ms | p99 ms | failed | load | leadgate req/s | leadgate ÷ ceiling |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    pairs = {"create_lead": "create_lead", "lead_status": None}
    for name, c in ceilings.items():
        lg = by.get(name)
        if name == "lead_status":
            big = [r for r in rows if r["scenario"].startswith("lead_status_") and r["scenario"] != "lead_status_10k"]
            lg = big[0] if big else by.get("lead_status_10k")
        ratio = ""
        if lg and num(lg["rate"]) and num(c["tps"]):
            ratio = f"{num(lg['rate']) / num(c['tps']):.0%}"
        if name == "create_lead_half_peak":
            ratio = "(latency floor at the same rate, pgbench -R)"
        if name == "round_trip":
            lg, ratio = None, "(SELECT 1: the machine's round-trip ceiling)"
        w(f"| {name} | {c['clients']} | {c['tps']} | {c['p50']} | {c['p99']} | {c['failed']} | {c['load']} | "
          f"{lg['rate'] if lg else ''} | {ratio} |")
    w("")

w("## Targets")
w("")
w("| target | measured | result |")
w("|---|---|---|")


def verdict(ok, *runs):
    if any(r is not None and r.get("valid") != "valid" for r in runs):
        return "INVALID run: re-run"
    return "—" if ok is None else ("PASS" if ok else "MISS")


def disk_floor(ft, threshold, commits):
    """The disk's share of requests that wait longer than `threshold` ms for `commits` durable
    commits (bench/fsync_tail.py): each commit waits that long in wait_share of the arrivals."""
    share = min(1.0, commits * ft["wait_share"][threshold])
    text = (f"the disk alone (fdatasync back to back on the idle machine, bench/fsync_tail.py): p99 "
            f"{ft['p99_ms']} ms, max {ft['max_ms']} ms; a commit waits > {threshold} ms for it in "
            f"{ft['wait_share'][threshold]:.2%} of arrivals")
    if commits > 1:
        text += f", so about {share:.2%} of requests with {commits} commits do"
    if share > 0.01:
        text += f" — over the 1 % a p99 allows: no durable answer reaches this p99 on this disk"
    return text


cl, clc = by.get("create_lead"), ceilings.get("create_lead")
if cl and clc and num(clc["tps"]):
    ratio = num(cl["rate"]) / num(clc["tps"])
    w(f"| create_lead ≥ 60 % of pgbench ceiling | {cl['rate']} ÷ {clc['tps']} = {ratio:.0%} | {verdict(ratio >= 0.6, cl)} |")
half = by.get("create_lead_half_peak")
if half:
    ok = num(half["p99"]) is not None and num(half["p99"]) <= 10
    floor = ceilings.get("create_lead_half_peak")
    fl = f"; its SQL alone at that rate: p99 {floor['p99']} ms" if floor else ""
    if meta.get("fsync_tail"):
        fl += "; " + disk_floor(json.loads(meta["fsync_tail"]), "10", 2)
    w(f"| create_lead p99 ≤ 10 ms at half of peak (target {meta.get('half_target')} req/s, paced) | "
      f"p99 {half['p99']} ms at {half['rate']} req/s{fl} | {verdict(ok, half)} |")
st = [r for r in rows if r["scenario"].startswith("lead_status_")]
if st:
    worst = min(num(r["rate"]) or 0 for r in st)
    ev = ""
    if ceilings.get("lead_status"):
        ev += f"; its SQL alone (pgbench): {ceilings['lead_status']['tps']} tx/s"
    if ceilings.get("round_trip"):
        ev += f"; bare SELECT 1 round trips: {ceilings['round_trip']['tps']}/s (a warm lead_status needs 1)"
    parts = [by.get("floor_healthz"), by.get("floor_los_status_direct"), ceilings.get("lead_status")]
    rates = [num(p.get("rate") or p.get("tps")) if p else None for p in parts]
    if all(rates):
        # Each part alone saturates the machine at its rate, so one lead_status (one of each) costs
        # at least the sum of their per-request machine times.
        bound = 1 / sum(1 / r for r in rates)
        ev += (f"; floor from its parts alone — /healthz {rates[0]:.0f}/s, fake LOS status "
               f"{rates[1]:.0f}/s, its SQL {rates[2]:.0f} tx/s — bounds it at ≤ {bound:,.0f} req/s")
        rt = num(ceilings.get("round_trip", {}).get("tps"))
        if rt:
            # Even if each of its 3 statements cost no more than a bare SELECT 1.
            best = 1 / (1 / rates[0] + 1 / rates[1] + 3 / rt)
            ev += f" (≤ {best:,.0f} req/s even if each of its 3 statements were a bare SELECT 1)"
    w(f"| lead_status ≥ 20,000 req/s | {', '.join(r['scenario'] + ': ' + r['rate'] for r in st)}{ev} | {verdict(worst >= 20000, *st)} |")
    small = by.get("lead_status_10k")
    big = [r for r in st if r is not small]
    if small and big and num(small["p50"]):
        d = num(big[0]["p50"]) / num(small["p50"]) - 1
        w(f"| lead_status p50 at {big[0]['scenario'][12:]} leads within 20 % of p50 at 10k | "
          f"{big[0]['p50']} vs {small['p50']} ms ({d:+.0%}) | {verdict(d <= 0.2, small, big[0])} |")
wh = by.get("webhook_at_5000")
if wh:
    ok = num(wh["p99"]) is not None and num(wh["p99"]) <= 5 and (num(wh["rate"]) or 0) >= 4750
    ev = f"; machine CPU {wh['mcpu']} % (wrk alone {wh['wcpu']} %, leadgate {wh['cpu']} %)"
    fl = by.get("floor_healthz_at_5000")
    if fl:
        ev += (f"; /healthz (no database) paced the same way: p99 {fl['p99']} ms at {fl['rate']} "
               f"req/s")
    if meta.get("fsync_tail"):
        ev += "; " + disk_floor(json.loads(meta["fsync_tail"]), "5", 1)
    if meta.get("inbox_drains"):
        ev += f"; inbox processing after the runs: {meta['inbox_drains'].strip().rstrip(';')}"
    w(f"| webhook ack p99 ≤ 5 ms at 5,000 req/s (paced) | p99 {wh['p99']} ms at {wh['rate']} "
      f"req/s{ev} | {verdict(ok, wh)} |")
# Issue 19: each hot endpoint at 32 connections as a share of PostgreSQL's ceiling for its lean
# SQL, both measured in this run (absolute figures drift 2-3x from day to day on this machine).
for scenario, ceiling, share, what in (
        ("target_create_lead", "create_lead_tx", 0.60, "create_lead"),
        ("target_lead_status", "select_lead", 0.50, "lead_status"),
        ("target_otp_send", "otp_send_tx", 0.60, "otp_send")):
    run, tps = by.get(scenario), num(lean.get(ceiling))
    if not run:
        continue
    if not tps:
        w(f"| {what} ≥ {share:.2f} × `{ceiling}` ceiling (32 conns) | {run['rate']} req/s; "
          f"no ceiling measured | — |")
        continue
    ratio = num(run["rate"]) / tps
    w(f"| {what} ≥ {share:.2f} × `{ceiling}` ceiling (32 conns) | {run['rate']} req/s ÷ "
      f"{tps:,.0f} tps = {ratio:.2f} | {verdict(ratio >= share, run)} |")
many = by.get("target_lead_status_1000_conns")
if many:
    bad = (num(many["non2xx"]) or 0) + (num(many["sock_err"]) or 0)
    w(f"| lead_status on 1,000 keep-alive connections: 0 non-2xx | {many['non2xx']} non-2xx, "
      f"{many['sock_err']} socket errors, {many['rate']} req/s, p99 {many['p99']} ms, peak RSS "
      f"{many['rss_mb']} MB | {'PASS' if bad == 0 and num(many['rate']) else 'MISS'} |")
wh19 = by.get("webhook_at_5000")
if wh19:
    w(f"| webhook ack p99 ≤ 10 ms at 5,000 req/s (paced, inbox processor running; issue 19) | "
      f"p99 {wh19['p99']} ms at {wh19['rate']} req/s | "
      f"{verdict(num(wh19['p99']) is not None and num(wh19['p99']) <= 10, wh19)} |")
# Issue 19, the HTTP path: leadgate's /healthz as a share of a minimal Boost.Beast server's
# (bench/hello_server.cpp: same build flags, same I/O threads), measured back to back in this run.
hz, hello = by.get("target_healthz"), by.get("target_healthz_hello")
if hz:
    if hello and num(hello["rate"]) and num(hz["rate"]) is not None:
        ratio = num(hz["rate"]) / num(hello["rate"])
        ev = ""
        if num(hz["cpu"]) and num(hello["cpu"]):
            # CPU time per request (µs): what leadgate spends beyond the bare server's HTTP path.
            us = [num(r["cpu"]) / 100 * 1e6 / num(r["rate"]) for r in (hz, hello)]
            ev = (f"; CPU per request {us[0]:.1f} µs vs {us[1]:.1f} µs (leadgate {hz['cpu']} %, "
                  f"hello {hello['cpu']} %)")
        w(f"| /healthz ≥ 0.75 × a minimal Boost.Beast server (same flags and threads, "
          f"{hz['conns']} conns) | {hz['rate']} ÷ {hello['rate']} req/s = {ratio:.2f}{ev} | "
          f"{verdict(ratio >= 0.75, hz, hello)} |")
    else:
        w(f"| /healthz ≥ 0.75 × a minimal Boost.Beast server | {hz['rate']} req/s; no hello "
          f"server run | — |")
idle = int(meta.get("idle_rss_start_kb") or 0) / 1024
idle_end = int(meta.get("idle_rss_end_kb") or 0) / 1024
w(f"| idle RSS ≤ 64 MB | {idle:.0f} MB after start, {idle_end:.0f} MB idle after the suite | {verdict(max(idle, idle_end) <= 64)} |")
mc = by.get("healthz_1000_conns")
if mc:
    w(f"| RSS ≤ 256 MB under 1,000 keep-alive connections | peak {mc['rss_mb']} MB ({mc['rate']} req/s on /healthz) | {verdict(num(mc['rss_mb']) <= 256, mc)} |")
if meta.get("startup"):
    s = json.loads(meta["startup"])
    w(f"| start-up to ready ≤ 300 ms (SQLite, fresh dir) | exec → /readyz 200: median {s['ready_median_ms']} ms, "
      f"max {s['ready_max_ms']} ms; logged startup_ms median {s['logged_median_ms']} ({s['runs']} runs) | "
      f"{verdict(s['ready_median_ms'] <= 300)} (median) |")
w("")
w("A run with non-2xx answers or socket errors is marked INVALID above and its figures do not count.")
print("\n".join(out))
