#!/usr/bin/env python3
"""Checks an `autonic experiment` output directory (tests/experiment_test.sh).

usage: check_experiment.py OUT_DIR ALL.json AUTONIC NAME...
For each experiment NAME: NAME.csv, NAME.png (a PNG) and a report.md section exist; the report's
"Data (`NAME.csv`)" table equals the CSV cell for cell; --json holds the same numbers; every
row was verified and names an `autonic run` / `autonic fileserver` command; re-running the offload row at the highest
fault level gives the same records-full share.
"""
import csv
import json
import subprocess
import sys


def fail(msg: str) -> None:
    print("FAIL: " + msg)
    sys.exit(1)


def report_table(report: str, name: str) -> list:
    marker = "Data (`%s.csv`):" % name
    if marker not in report:
        fail("report.md has no data table for " + name)
    lines = report.split(marker, 1)[1].strip().splitlines()
    rows = []
    for ln in lines:
        if not ln.startswith("|"):
            break
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        if all(set(c) <= {"-"} for c in cells):
            continue
        rows.append([c[1:-1] if c.startswith("`") and c.endswith("`") else c for c in cells])
    return rows


def main() -> None:
    out, all_json, autonic, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    with open(out + "/report.md", encoding="utf-8") as f:
        report = f.read()
    with open(all_json, encoding="utf-8") as f:
        js = json.load(f)
    for name in names:
        with open("%s/%s.csv" % (out, name), encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        with open("%s/%s.png" % (out, name), "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                fail(name + ".png is not a PNG")
        if report_table(report, name) != rows:
            fail("report.md's table for %s differs from %s.csv" % (name, name))
        head, body = rows[0], rows[1:]
        if len(js.get(name, [])) != len(body):
            fail("--json has %d rows for %s, the CSV %d" % (len(js.get(name, [])), name, len(body)))
        for r, j in zip(body, js[name]):
            for col, cell in zip(head, r):
                v = j[col]
                if (cell == "" and v is not None) or (cell != "" and str(v) != cell and
                                                       (not isinstance(v, float) or abs(v - float(cell)) > 1e-9)):
                    fail("%s: --json %s=%r, CSV %r" % (name, col, v, cell))
            rec = dict(zip(head, r))
            if rec["verified"] != "yes":
                fail("%s: a run was not verified: %s" % (name, rec["command"]))
            if not rec["command"].startswith(("autonic run ", "autonic fileserver ")):
                fail("%s: row without its command" % name)
        # Re-run one point from its row's command (virtual time: the same outcome, and for a TLS
        # offload row the same records-full share).
        recs_rows = [dict(zip(head, r)) for r in body if dict(zip(head, r)).get("records_full_pct")]
        pick = recs_rows[-1] if recs_rows else dict(zip(head, body[-1]))
        verb, cmd = pick["command"].split()[1], pick["command"].split()[2:]
        got = json.loads(subprocess.run([autonic, verb] + cmd + ["--json"], capture_output=True, text=True, check=True).stdout)
        if not got["verified"]:
            fail("%s: re-running `%s` was not verified" % (name, pick["command"]))
        if verb == "fileserver" and pick.get("nvme_ios") and str(got["nvme_ios"]) != pick["nvme_ios"]:
            fail("%s: re-running `%s` read another number of NVMe I/Os" % (name, pick["command"]))
        if pick.get("records_full_pct"):
            s = got["stats"]["server"]
            recs = s["rx_tls_msgs_full"] + s["rx_tls_msgs_partial"] + s["rx_tls_msgs_none"]
            if "%.1f" % (100.0 * s["rx_tls_msgs_full"] / recs) != pick["records_full_pct"]:
                fail("%s: re-running `%s` gave another records-full share" % (name, pick["command"]))
        if ("## %s:" % name) not in report:
            fail("report.md has no section for " + name)
    print("check_experiment: %d experiments ok" % len(names))


if __name__ == "__main__":
    main()
