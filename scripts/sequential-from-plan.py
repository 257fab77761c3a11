#!/usr/bin/env python3
"""Turns `recipe plan --json` into a plain sequential shell script that runs the same
configure/make/install commands with the same toolchain wrappers, one job after another, with
`make -j$(nproc)`: the baseline of scripts/bench-graph.sh. It unpacks each source from the
recipe source store (`--store`): tar archives (plain, gz, xz, bz2) with `tar`, zip archives
(PyPI wheels, Go module zips) with Python's zipfile, each with the plan's `strip`; it builds
each dependency's install tree into its job's folder and copies those trees into dependents'
sysroots, as a hand-written build script would. Each finished job's install tree is also linked
where the plan expects its cache entry (`<cache>/builds/<key>/dest`), so host tools a job names
on its PATH are found.

Usage: recipe plan NAME --arch all --json | sequential-from-plan.py --store DIR > build.sh
"""
import argparse
import json
import os
import shlex
import sys

# unzip_strip ARCHIVE DEST STRIP: extracts a zip, dropping STRIP leading path components (as
# `tar --strip-components`), keeping the executable bit; entries that would land outside DEST
# are refused.
UNZIP = r"""unzip_strip() {
  python3 - "$@" <<'PY'
import os, shutil, sys, zipfile
archive, dest, strip = sys.argv[1], os.path.realpath(sys.argv[2]), int(sys.argv[3])
with zipfile.ZipFile(archive) as z:
    for info in z.infolist():
        parts = [p for p in info.filename.split("/") if p][strip:]
        if not parts:
            continue
        target = os.path.realpath(os.path.join(dest, *parts))
        if not target.startswith(dest + os.sep):
            sys.exit(f"unzip_strip: {info.filename!r} leaves {dest}")
        if info.is_dir():
            os.makedirs(target, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
        mode = (info.external_attr >> 16) & 0o777
        os.chmod(target, mode if mode else 0o644)
PY
}"""


def archive_kind(path):
    """"zip" or "tar" by magic bytes (GNU tar itself tells gz, xz, bz2 and plain tar apart)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        sys.exit(f"sequential-from-plan: cannot read the source {path}: {e.strerror}")
    return "zip" if head == b"PK\x03\x04" else "tar"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True, help="the recipe source store (<cache>/sources)")
    args = ap.parse_args()
    plan = json.load(sys.stdin)
    jobs = plan["jobs"]
    dest_of_key = {j["key"]: j["dest"] for j in jobs}
    out = ["#!/usr/bin/env bash", "set -euo pipefail", "JOBS=$(nproc)", UNZIP]
    for j in jobs:
        q = shlex.quote
        out.append(f"echo '== {j['recipe']} {j['arch']}' >&2")
        out.append(f"rm -rf {q(j['work'])} && mkdir -p {q(j['src'])} {q(j['dest'])}")
        src = j["source"]
        if "path" in src:
            out.append(f"cp -a {q(src['path'])}/. {q(j['src'])}/")
        else:
            archive = f"{args.store}/sha256/{src['sha256']}"
            if archive_kind(archive) == "zip":
                out.append(f"unzip_strip {q(archive)} {q(j['src'])} {int(src['strip'])}")
            else:
                out.append(f"tar -xf {q(archive)} --strip-components={int(src['strip'])} -C {q(j['src'])}")
        if j["sysroot_from"]:
            out.append(f"mkdir -p {q(j['sysroot'])}")
            for entry in j["sysroot_from"]:
                key = entry.rstrip("/").split("/")[-2]
                out.append(f"cp -a {q(dest_of_key[key])}/. {q(j['sysroot'])}/")
        for step in j["steps"]:
            # recipe's own extras stay out of the baseline, as before the plan listed them: the
            # strip step (recipe strips, a hand-written script need not), and a marker step
            # without a command (Debian's series).
            if step["name"] == "strip" or "argv" not in step and "write" not in step:
                continue
            if "patch" in step:
                sys.exit(f"{j['recipe']}: the sequential baseline does not apply patches")
            if "write" in step:
                out.append(f"cat > {q(step['write'])} <<'RECIPE_EOF'\n{step['contents']}RECIPE_EOF")
                continue
            argv = list(step["argv"])
            if argv[0] == "make" and not any(a.startswith("-j") for a in argv):
                argv.insert(1, "-j$JOBS")
            # recipe fills the plan's `${SOURCE_DATE}` with the source's date once it is
            # unpacked; the baseline gives 0 (the date changes no work, only embedded stamps)
            env = " ".join(
                f"{k}={q('0' if v == '${SOURCE_DATE}' else v)}" for k, v in sorted(step["env"].items())
            )
            cmd = " ".join(a if a == "-j$JOBS" else q(a) for a in argv)
            out.append(f"(cd {q(step['cwd'])} && env -i {env} {cmd}) >> {q(j['work'])}/build.log 2>&1")
        # where dependents (sysroot_from) and host-tool PATHs look for this job's install tree
        cache = os.path.dirname(os.path.dirname(j["work"].rstrip("/")))
        entry = f"{cache}/builds/{j['key']}"
        out.append(f"mkdir -p {q(entry)} && ln -sfn {q(j['dest'])} {q(entry + '/dest')}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
