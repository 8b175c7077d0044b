#if DEBUG || GOSSIP_MIRROR_FUZZ
import Foundation
@testable import Catalog

/// OCI documents as the catalog reads them (`ImageDocument`): an OCI
/// layout's `index.json`, and the indexes, manifest lists and manifests
/// that `ImageWalker` descends through. Any of them may come from a file
/// someone else wrote or from a store's blob.
///
/// Properties: decoding never traps; a child's validated descriptor has a
/// non-negative size and the digest it was written with (printed back
/// exactly), and a child without one has a digest that does not parse or a
/// negative size; an image name in a child's annotations that parses
/// prints back to itself (`ImageReference(qualified:)`, as `OCILayoutStore`
/// reads `io.containerd.image.name`).
extension FuzzTarget {
    static let ociDocument = FuzzTarget(
        name: "oci-document",
        summary: "ImageDocument JSON (index.json, index, manifest list, manifest): descriptors and image-name annotations",
        seeds: OCIDocumentFuzzing.seeds,
        run: OCIDocumentFuzzing.run)
}

enum OCIDocumentFuzzing {
    static func run(_ bytes: [UInt8]) throws(PropertyViolation) {
        guard let document = try? ImageDocument.decode(bytes) else { return }
        let children = document.children
        try require(children.count == (document.manifests?.count ?? 0) + (document.config == nil ? 0 : 1) + (document.layers?.count ?? 0),
                "\(children.count) children")
        for child in children {
            if let descriptor = child.descriptor {
                try require(descriptor.size == child.size && descriptor.size >= 0, "size \(child.size) became \(descriptor.size)")
                try require(descriptor.digest.description == child.digest, "digest \(child.digest) read as \(descriptor.digest)")
                try require(!descriptor.mediaType.isEmpty, "an empty media type")
            } else {
                try require(Digest(child.digest) == nil || child.size < 0, "a valid descriptor was dropped: \(child.digest) \(child.size)")
            }
            if let name = child.annotations?[OCILayoutStore.containerdImageNameAnnotation],
                let reference = try? ImageReference(qualified: name)
            {
                try require((try? ImageReference(qualified: reference.description)) == reference,
                        "image name \(name.debugDescription) prints as \(reference.description), which reads otherwise")
            }
        }
    }

    static func seeds() -> [[UInt8]] {
        let digest = "sha256:" + String(repeating: "0123456789abcdef", count: 4)
        let documents = [
            """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(digest)","size":1024,"annotations":{"io.containerd.image.name":"docker.io/library/alpine:3","org.opencontainers.image.ref.name":"3"}}]}
            """,
            """
            {"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(digest)","size":7},"layers":[{"digest":"sha512:ab","size":1},{"mediaType":"","digest":"\(digest)","size":-1},{"digest":"\(digest)","size":9007199254740993}]}
            """,
            """
            {"manifests":[{"digest":"\(digest)","size":1e3,"annotations":{"io.containerd.image.name":"MyHost/app:1"}}],"layers":null}
            """,
        ]
        return documents.map { Array($0.utf8) }
    }
}
#endif
