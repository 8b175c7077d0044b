#!/usr/bin/env bash
# Regenerates Sources/Catalog/ContainerdStore/Generated/ from our subset of
# containerd's API in Sources/Catalog/ContainerdStore/Protos/.
#
# The generated Swift is committed, so a normal build needs none of this: run it
# only after editing a .proto file. It builds the two protoc plugins once in a
# scratch folder outside the repository (a first build of swift-protobuf's
# plugin takes minutes) and reuses them on later runs.
#
# Needs: protoc and the well-known types (Debian: protobuf-compiler,
# libprotobuf-dev), git, swift.
#
# Environment:
#   PROTOGEN_DIR           scratch folder for the plugins (default /tmp/gossip-mirror-protogen)
#   PROTOC_GEN_SWIFT       use this protoc-gen-swift instead of building one
#   PROTOC_GEN_GRPC_SWIFT  use this protoc-gen-grpc-swift-2 instead of building one
set -euo pipefail

# Keep these in step with Package.swift: generated code must match the runtime.
GRPC_SWIFT_PROTOBUF_VERSION=2.4.1
SWIFT_PROTOBUF_VERSION=1.39.0

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
protos="$repo_root/Sources/Catalog/ContainerdStore/Protos"
out="$repo_root/Sources/Catalog/ContainerdStore/Generated"
work=${PROTOGEN_DIR:-/tmp/gossip-mirror-protogen}

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler libprotobuf-dev" >&2; exit 1; }
wkt_include=""
for dir in /usr/include /usr/local/include; do
  if [[ -f "$dir/google/protobuf/any.proto" ]]; then wkt_include=$dir; break; fi
done
[[ -n "$wkt_include" ]] || { echo "google/protobuf/*.proto not found: apt-get install libprotobuf-dev" >&2; exit 1; }

build_plugins() {
  local src="$work/grpc-swift-protobuf"
  mkdir -p "$work"
  if [[ ! -d "$src/.git" ]]; then
    git -c advice.detachedHead=false clone --quiet --branch "$GRPC_SWIFT_PROTOBUF_VERSION" \
      https://github.com/grpc/grpc-swift-protobuf.git "$src"
  fi
  # Pin swift-protobuf to the version the package builds against.
  (cd "$src" && swift package resolve >/dev/null \
     && swift package resolve swift-protobuf --version "$SWIFT_PROTOBUF_VERSION" >/dev/null)
  (cd "$src" && swift build --product protoc-gen-grpc-swift-2 >&2 \
     && swift build --product protoc-gen-swift >&2)
  PROTOC_GEN_SWIFT=${PROTOC_GEN_SWIFT:-$src/.build/debug/protoc-gen-swift}
  PROTOC_GEN_GRPC_SWIFT=${PROTOC_GEN_GRPC_SWIFT:-$src/.build/debug/protoc-gen-grpc-swift-2}
}

if [[ -z "${PROTOC_GEN_SWIFT:-}" || -z "${PROTOC_GEN_GRPC_SWIFT:-}" ]]; then
  build_plugins
fi

mapfile -t files < <(cd "$protos" && find . -name '*.proto' | sed 's|^\./||' | sort)
rm -f "$out"/*.swift
mkdir -p "$out"

protoc \
  --proto_path="$protos" --proto_path="$wkt_include" \
  --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
  --swift_out="$out" \
  --swift_opt=Visibility=Internal,FileNaming=PathToUnderscores \
  --plugin=protoc-gen-grpc-swift="$PROTOC_GEN_GRPC_SWIFT" \
  --grpc-swift_out="$out" \
  --grpc-swift_opt=Visibility=Internal,FileNaming=PathToUnderscores,Client=true,Server=false \
  "${files[@]}"

# The gRPC plugin writes a file for every .proto, even those without services.
grep -l 'This file contained no services' "$out"/*.grpc.swift | xargs -r rm -f

echo "generated $(ls "$out" | wc -l) files in ${out#"$repo_root"/}"
