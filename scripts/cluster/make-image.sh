#!/usr/bin/env bash
# Writes a test image into an OCI image layout: an index of two platforms
# (linux/amd64 and linux/arm64), each with its own config and random layers
# of the given sizes. Nothing is downloaded; bash, head, tar, gzip and
# sha256sum do all the work. Layers are gzip-compressed tar archives holding
# one random file each; the configs carry the right diff_ids, so containerd
# unpacks and verifies them.
#
#   scripts/cluster/make-image.sh OUTDIR TAG SIZE [SIZE...]
#
# SIZE is the size of the random file in a layer: bytes, or with a K/M suffix
# (1024-based). Prints the index digest on stdout, and lists every blob in
# OUTDIR/blobs.txt: "PLATFORM KIND DIGEST SIZE" (the index's platform is "-").
#
# Environment: PLATFORMS ("amd64 arm64": the architectures in the index);
# LAYER_COMPRESSION (gzip, or none for plain tar layers, which benchmarks use
# so that a pull's time is not mostly gzip's).
set -euo pipefail

if (($# < 3)); then
  echo "usage: $0 OUTDIR TAG SIZE [SIZE...]" >&2
  exit 2
fi
out=$1 tag=$2
shift 2
sizes=("$@")

bytes() {
  local s=$1
  case $s in
    *K) echo $(( ${s%K} * 1024 )) ;;
    *M) echo $(( ${s%M} * 1024 * 1024 )) ;;
    *) echo "$s" ;;
  esac
}

mkdir -p "$out/blobs/sha256"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gm-image.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Moves a file into blobs/sha256 under its digest; prints "DIGEST SIZE".
put_blob() {
  local file=$1 hex size
  hex=$(sha256sum "$file" | cut -d' ' -f1)
  size=$(stat -c %s "$file")
  mv -f "$file" "$out/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}

# Writes a JSON document as a blob; prints "DIGEST SIZE".
put_json() {
  local file="$scratch/doc.json"
  printf '%s' "$1" >"$file"
  put_blob "$file"
}

manifests=""
: >"$out/blobs.txt"
compression=${LAYER_COMPRESSION:-gzip}
case $compression in
  gzip) layer_type=application/vnd.oci.image.layer.v1.tar+gzip ;;
  none) layer_type=application/vnd.oci.image.layer.v1.tar ;;
  *) echo "LAYER_COMPRESSION must be gzip or none" >&2; exit 2 ;;
esac
for arch in ${PLATFORMS:-amd64 arm64}; do
  layers="" diff_ids=""
  for i in "${!sizes[@]}"; do
    dir="$scratch/layer"
    rm -rf "$dir" && mkdir -p "$dir"
    head -c "$(bytes "${sizes[$i]}")" /dev/urandom >"$dir/random-$arch-$i.bin"
    tar --format=ustar --owner=0 --group=0 --numeric-owner --mtime=@0 \
      -cf "$scratch/layer.tar" -C "$dir" "random-$arch-$i.bin"
    diff_id="sha256:$(sha256sum "$scratch/layer.tar" | cut -d' ' -f1)"
    layer=$scratch/layer.tar
    if [ "$compression" = gzip ]; then gzip -n -f "$layer" && layer=$layer.gz; fi
    read -r digest size < <(put_blob "$layer")
    layers+="${layers:+,}{\"mediaType\":\"$layer_type\",\"digest\":\"$digest\",\"size\":$size}"
    diff_ids+="${diff_ids:+,}\"$diff_id\""
    echo "$arch layer $digest $size" >>"$out/blobs.txt"
  done
  read -r config_digest config_size < <(put_json \
    "{\"architecture\":\"$arch\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diff_ids]},\"config\":{}}")
  read -r manifest_digest manifest_size < <(put_json \
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$config_digest\",\"size\":$config_size},\"layers\":[$layers]}")
  echo "$arch config $config_digest $config_size" >>"$out/blobs.txt"
  echo "$arch manifest $manifest_digest $manifest_size" >>"$out/blobs.txt"
  manifests+="${manifests:+,}{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$manifest_digest\",\"size\":$manifest_size,\"platform\":{\"architecture\":\"$arch\",\"os\":\"linux\"}}"
done

read -r index_digest index_size < <(put_json \
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[$manifests]}")
echo "- index $index_digest $index_size" >>"$out/blobs.txt"
printf '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
  "$index_digest" "$index_size" "$tag" >"$out/index.json"
echo "$index_digest"
