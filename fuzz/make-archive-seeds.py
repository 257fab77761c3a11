#!/usr/bin/env python3
"""Writes the handmade seeds of the `archive` fuzz target into fuzz/corpus/archive/: small OCI and
docker archives with the shapes `recipe check` must handle (gzip and plain layers, two layers
with a whiteout and an opaque folder, symlinks, a nested index, a dynamic ELF and a script as
entrypoints). Deterministic: fixed mtimes, sorted entries."""
import gzip, hashlib, io, json, os, sys, tarfile

root = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(root, "corpus", "archive")
elf = lambda name: open(os.path.join(root, "corpus", "elf", name), "rb").read()

def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 0
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, data
                t.addfile(info)
            else:
                info.size, info.mode = len(data), 0o755 if kind == "exe" else 0o644
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()

def gz(data):
    return gzip.compress(data, mtime=0)

def blob(blobs, data):
    d = hashlib.sha256(data).hexdigest()
    blobs["blobs/sha256/" + d] = data
    return "sha256:" + d, len(data)

def oci(layers, config, nested=False, platform=("amd64", None)):
    blobs = {}
    cdig, csize = blob(blobs, json.dumps(config).encode())
    lay = []
    for raw, compress in layers:
        data = gz(raw) if compress else raw
        d, s = blob(blobs, data)
        mt = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")
        lay.append({"mediaType": mt, "digest": d, "size": s})
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdig, "size": csize},
           "layers": lay}
    mdig, msize = blob(blobs, json.dumps(man).encode())
    plat = {"os": "linux", "architecture": platform[0]}
    if platform[1]:
        plat["variant"] = platform[1]
    desc = {"mediaType": man["mediaType"], "digest": mdig, "size": msize, "platform": plat}
    if nested:
        inner = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [desc]}
        idig, isize = blob(blobs, json.dumps(inner).encode())
        desc = {"mediaType": inner["mediaType"], "digest": idig, "size": isize}
    index = {"schemaVersion": 2, "manifests": [desc]}
    files = [("oci-layout", "file", b'{"imageLayoutVersion":"1.0.0"}'),
             ("index.json", "file", json.dumps(index).encode())]
    files += [(k, "file", v) for k, v in sorted(blobs.items())]
    return tar(files)

def config(entrypoint, arch="amd64"):
    return {"architecture": arch, "os": "linux",
            "config": {"Entrypoint": entrypoint, "User": "1000:1000", "Env": ["PATH=/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": []}}

def docker(layers, cfg):
    blobs = {}
    cdig, _ = blob(blobs, json.dumps(cfg).encode())
    names = [blob(blobs, l)[0] for l in layers]
    manifest = [{"Config": "blobs/sha256/" + cdig[7:], "RepoTags": ["seed:1"],
                 "Layers": ["blobs/sha256/" + n[7:] for n in names]}]
    files = [("manifest.json", "file", json.dumps(manifest).encode())]
    files += [(k, "file", v) for k, v in sorted(blobs.items())]
    return tar(files)

static = elf("zig-x86_64-static")
base = tar([("usr", "dir", None), ("usr/bin", "dir", None), ("usr/bin/app", "exe", static),
            ("usr/bin/old", "exe", b"#!/bin/sh\necho old\n"), ("opt", "dir", None),
            ("opt/x", "file", b"x"), ("bin", "link", "usr/bin")])
top = tar([("usr/bin/.wh.old", "file", b""), ("opt/.wh..wh..opq", "file", b""),
           ("usr/bin/run", "link", "app"), ("usr/bin/script", "exe", b"#!/usr/bin/env python3\nprint(1)\n")])
seeds = {
    "oci-two-layers-whiteouts.tar": oci([(base, True), (top, False)], config(["/bin/run"])),
    "oci-nested-index-arm64.tar": oci([(tar([("app", "exe", elf("zig-aarch64-static"))]), True)],
                                      config(["/app"], "arm64"), nested=True, platform=("arm64", None)),
    "oci-dynamic-entrypoint.tar": oci([(tar([("true", "exe", elf("debian-true-dynamic"))]), True)],
                                      config(["/true"])),
    "docker-script-entrypoint.tar": docker([tar([("s.py", "exe", b"#!/usr/bin/python3\n")])],
                                           config(["/s.py"])),
}
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    open(os.path.join(out, name), "wb").write(data)
    print(name, len(data))
