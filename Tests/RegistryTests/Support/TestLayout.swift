import Catalog
import Foundation
import NIOCore
import TestSupport

@testable import Registry

/// An OCI image layout written for an in-process test: one image of random
/// layers, named in full (`io.containerd.image.name`), so an `OCILayoutStore`
/// serves it without a default repository.
struct TestLayout: Sendable {
    struct Blob: Sendable {
        var descriptor: Descriptor
        var bytes: ByteBuffer
        var digest: Digest { descriptor.digest }
        var size: Int { bytes.readableBytes }
    }

    let path: String
    /// `registry/repository:tag`.
    let reference: ImageReference
    let manifest: Blob
    let config: Blob
    let layers: [Blob]

    var blobs: [Blob] { [manifest, config] + layers }

    /// `/v2/<repository>/manifests/<tag>?ns=<registry>`.
    var manifestPath: String {
        "/v2/\(reference.repository)/manifests/\(reference.tag!)?ns=\(reference.registry)"
    }

    func blobPath(_ blob: Blob) -> String {
        "/v2/\(reference.repository)/blobs/\(blob.digest)?ns=\(reference.registry)"
    }

    func file(of blob: Blob) -> String { "\(path)/blobs/sha256/\(blob.digest.hex)" }

    /// Writes the layout (with `OCILayoutWriter`): random layers of `layerSizes`,
    /// a config made unique by `seed`, a manifest, and `index.json` naming it `reference`.
    static func write(
        to path: String, reference: String = "docker.io/test/app:v1", layerSizes: [Int], seed: UInt64 = 1
    ) throws -> TestLayout {
        let layout = try OCILayoutWriter(root: path)
        func put(_ bytes: ByteBuffer, _ mediaType: String) throws -> Blob {
            Blob(descriptor: try layout.addBlob(Array(bytes.readableBytesView), mediaType: mediaType), bytes: bytes)
        }
        let layers = try layerSizes.enumerated().map { index, size in
            try put(fetchTestPayload(size: size, seed: seed &* 1000 &+ UInt64(index)), MediaType.ociLayerTar)
        }
        let config = try put(
            ByteBuffer(bytes: try OCILayoutWriter.json(["architecture": "amd64", "os": "linux", "seed": seed])), MediaType.ociConfig)
        let manifest = try put(
            ByteBuffer(bytes: try OCILayoutWriter.manifest(config: config.descriptor, layers: layers.map(\.descriptor))),
            MediaType.ociManifest)
        try layout.writeIndex([(manifest.descriptor, [OCILayoutStore.containerdImageNameAnnotation: reference])])
        return TestLayout(
            path: path, reference: try ImageReference(reference), manifest: manifest, config: config, layers: layers)
    }
}
