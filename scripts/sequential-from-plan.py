#!/usr/bin/env python3
"""Turns `recipe plan --json` into a plain sequential shell script that runs the same
configure/make/install commands with the same toolchain wrappers, one job after another, with
`make -j$(nproc)`: the baseline of scripts/bench-graph.sh. It unpacks each source from the
recipe source store (`--store`), builds each dependency's install tree into its job's folder
and copies those trees into dependents' sysroots, as a hand-written build script would.

Usage: recipe plan NAME --arch all --json | sequential-from-plan.py --store DIR > build.sh
"""
import argparse
import json
import shlex
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True, help="the recipe source store (<cache>/sources)")
    args = ap.parse_args()
    plan = json.load(sys.stdin)
    jobs = plan["jobs"]
    dest_of_key = {j["key"]: j["dest"] for j in jobs}
    out = ["#!/usr/bin/env bash", "set -euo pipefail", "JOBS=$(nproc)"]
    for j in jobs:
        q = shlex.quote
        out.append(f"echo '== {j['recipe']} {j['arch']}' >&2")
        out.append(f"rm -rf {q(j['work'])} && mkdir -p {q(j['src'])} {q(j['dest'])}")
        src = j["source"]
        if "path" in src:
            out.append(f"cp -a {q(src['path'])}/. {q(j['src'])}/")
        else:
            archive = f"{args.store}/sha256/{src['sha256']}"
            out.append(f"tar -xf {q(archive)} --strip-components={src['strip']} -C {q(j['src'])}")
        if j["sysroot_from"]:
            out.append(f"mkdir -p {q(j['sysroot'])}")
            for entry in j["sysroot_from"]:
                key = entry.rstrip("/").split("/")[-2]
                out.append(f"cp -a {q(dest_of_key[key])}/. {q(j['sysroot'])}/")
        for step in j["steps"]:
            if "write" in step:
                out.append(f"cat > {q(step['write'])} <<'RECIPE_EOF'\n{step['contents']}RECIPE_EOF")
                continue
            argv = list(step["argv"])
            if argv[0] == "make" and not any(a.startswith("-j") for a in argv):
                argv.insert(1, "-j$JOBS")
            env = " ".join(f"{k}={q(v)}" for k, v in sorted(step["env"].items()))
            cmd = " ".join(a if a == "-j$JOBS" else q(a) for a in argv)
            out.append(f"(cd {q(step['cwd'])} && env -i {env} {cmd}) >> {q(j['work'])}/build.log 2>&1")
    print("\n".join(out))


if __name__ == "__main__":
    main()
