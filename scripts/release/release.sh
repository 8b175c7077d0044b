#!/usr/bin/env bash
# A release: the binary (scripts/release/build.sh), the container image
# (scripts/release/image.sh), and
#   gossip-mirror-<version>-linux-<arch>.tar.gz   binary, LICENSE, CHANGELOG.md,
#                                                  README.md, deploy/ (every file)
#   SHA256SUMS                                     of the archive and the image archive
# in .build/release-artifacts (or --out DIR). Refuses a version that has no
# section in CHANGELOG.md. --binary PATH skips the build (for tests).
set -euo pipefail
cd "$(dirname "$0")/../.."

out=".build/release-artifacts" binary=""
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    *) echo "usage: $0 [--out DIR] [--binary PATH]" >&2; exit 2 ;;
  esac
done

version=$(sed -n 's/^ *static let version = "\(.*\)"$/\1/p' Sources/gossip-mirror/Observability/BuildInfo.swift)
grep -q "^## $version " CHANGELOG.md || { echo "CHANGELOG.md has no section for $version" >&2; exit 1; }
case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
mkdir -p "$out"

[ -n "$binary" ] || binary=$(scripts/release/build.sh | tail -n 1)
scripts/release/image.sh --binary "$binary" --out "$out"

base="gossip-mirror-$version-linux-$arch"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$base"
install -m 0755 "$binary" "$stage/$base/gossip-mirror"
strip --strip-debug "$stage/$base/gossip-mirror"   # as in the image: symbols and build ID stay
cp LICENSE CHANGELOG.md README.md "$stage/$base/"
git ls-files -z deploy | xargs -0 -I{} cp --parents {} "$stage/$base/"
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$stage" -cf - "$base" | gzip -n -6 >"$out/$base.tar.gz"

(cd "$out" && sha256sum "$base.tar.gz" "gossip-mirror-$version-linux-$arch-oci.tar" >SHA256SUMS)
echo "release $version ($arch) in $out:"
(cd "$out" && ls -l "$base.tar.gz" "gossip-mirror-$version-linux-$arch-oci.tar" SHA256SUMS | awk '{ print "  " $5 "\t" $9 }')
