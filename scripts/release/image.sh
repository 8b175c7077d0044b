#!/usr/bin/env bash
# Assembles the gossip-mirror container image from the release binary,
# without pulling any base image: the binary, exactly the shared libraries
# `ldd` says it loads (and the dynamic loader), the CA certificates, and a
# minimal /etc. Writes an OCI image layout and an OCI archive of it (what
# `ctr images import`, `skopeo copy oci-archive:` and `podman load` take),
# and reports the image's size.
#
#   scripts/release/image.sh [--binary PATH] [--out DIR] [--name NAME]
#
# Defaults: the binary from scripts/release/build.sh, DIR .build/release-artifacts,
# NAME localhost/gossip-mirror:<version>. The layer is reproducible: sorted
# entries, owner 0, every mtime the commit's time, gzip without a name or time.
set -euo pipefail
cd "$(dirname "$0")/../.."

binary="" out=".build/release-artifacts" name=""
while (($#)); do
  case $1 in
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    *) echo "usage: $0 [--binary PATH] [--out DIR] [--name NAME]" >&2; exit 2 ;;
  esac
done
[ -n "$binary" ] || binary=$(scripts/release/build.sh | tail -n 1)
[ -x "$binary" ] || { echo "not an executable: $binary" >&2; exit 1; }

version=$(sed -n 's/^ *static let version = "\(.*\)"$/\1/p' Sources/gossip-mirror/Observability/BuildInfo.swift)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
name=${name:-localhost/gossip-mirror:$version}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp" "$root/run" "$root/var/lib"
chmod 1777 "$root/tmp"
install -m 0755 "$binary" "$root/usr/local/bin/gossip-mirror"
# DWARF debug information is most of a release binary; symbols (for the Swift
# runtime's backtraces) and the build ID note stay.
strip --strip-debug "$root/usr/local/bin/gossip-mirror"

# Every shared object the binary loads, at the path the loader finds it
# (symbolic links resolved: the file is copied under the name asked for).
libraries=$(ldd "$binary" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(0x/ { print $1 }' | sort -u)
for lib in $libraries; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# The loader may be asked for by its canonical path too (/lib64 -> usr/lib64 on merged-/usr systems).
interpreter=$(readelf -l "$binary" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
if [ -n "$interpreter" ] && [ ! -e "$root$interpreter" ]; then
  mkdir -p "$root$(dirname "$interpreter")"
  cp -L "$interpreter" "$root$interpreter"
fi

cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
# glibc resolves host names without NSS modules (files and dns are built in
# since 2.34); these files say so and name root for tools that ask.
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
printf 'root:x:0:0:root:/:/usr/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"

layout="$out/gossip-mirror-$version-oci"
rm -rf "$layout"
mkdir -p "$layout/blobs/sha256"

# The one layer, reproducible.
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$root" -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -6 <"$work/layer.tar" >"$work/layer.tar.gz"
layer=$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)
mv "$work/layer.tar.gz" "$layout/blobs/sha256/$layer"

# Config, manifest and index (OCI image spec 1.1).
python3 - "$layout" "$version" "$commit" "$created" "$arch" "$name" "$layer" "$diff_id" <<'PY'
import hashlib, json, os, sys
layout, version, commit, created, arch, name, layer, diff_id = sys.argv[1:]
def blob(obj, media):
    data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"mediaType": media, "digest": "sha256:" + digest, "size": len(data)}
labels = {
    "org.opencontainers.image.title": "gossip-mirror",
    "org.opencontainers.image.description": "A stateless, peer-to-peer OCI registry mirror for small clusters and edge sites",
    "org.opencontainers.image.version": version,
    "org.opencontainers.image.revision": commit,
    "org.opencontainers.image.created": created,
    "org.opencontainers.image.licenses": "Apache-2.0",
    "org.opencontainers.image.documentation": "deploy/kubernetes/README.md in the release archive",
}
config = {
    "created": created, "architecture": arch, "os": "linux",
    "config": {
        "Entrypoint": ["/usr/local/bin/gossip-mirror"], "Cmd": ["run"],
        "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
        "WorkingDir": "/", "StopSignal": "SIGTERM", "Labels": labels,
        "ExposedPorts": {"5000/tcp": {}, "7946/tcp": {}, "7946/udp": {}, "9090/tcp": {}},
    },
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
    "history": [{"created": created, "created_by": "scripts/release/image.sh (no base image)"}],
}
layer_size = os.path.getsize(os.path.join(layout, "blobs", "sha256", layer))
manifest = {
    "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": blob(config, "application/vnd.oci.image.config.v1+json"),
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + layer, "size": layer_size}],
    "annotations": labels,
}
descriptor = blob(manifest, "application/vnd.oci.image.manifest.v1+json")
descriptor["platform"] = {"architecture": arch, "os": "linux"}
descriptor["annotations"] = {"org.opencontainers.image.ref.name": version, "io.containerd.image.name": name}
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [descriptor]}, f, indent=2)
with open(os.path.join(layout, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
print(descriptor["digest"])
PY

archive="$out/gossip-mirror-$version-linux-$arch-oci.tar"
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$layout" -cf "$archive" .
manifest_digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$layout/index.json")
rootfs_bytes=$(du -sb "$root" | cut -f1)
layer_bytes=$(stat -c %s "$layout/blobs/sha256/$layer")
echo "image $name ($manifest_digest)"
echo "  layout  $layout"
echo "  archive $archive ($(stat -c %s "$archive") bytes)"
echo "  size: $layer_bytes bytes compressed, $rootfs_bytes bytes unpacked ($(echo "$libraries" | wc -w) shared libraries)"
