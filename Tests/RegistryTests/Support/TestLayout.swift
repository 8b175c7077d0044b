import Catalog
import Foundation
import NIOCore

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

    static func write(
        to path: String, reference: String = "docker.io/test/app:v1", layerSizes: [Int], seed: UInt64 = 1
    ) throws -> TestLayout {
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(path)/blobs/sha256", withIntermediateDirectories: true)
        func put(_ bytes: ByteBuffer, _ mediaType: String) throws -> Blob {
            let digest = DigestVerifier.digest(of: bytes)
            try Data(bytes.readableBytesView).write(to: URL(fileURLWithPath: "\(path)/blobs/sha256/\(digest.hex)"))
            return Blob(descriptor: Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.readableBytes)), bytes: bytes)
        }
        func json(_ d: Descriptor) -> String { #"{"mediaType":"\#(d.mediaType)","digest":"\#(d.digest)","size":\#(d.size)}"# }
        let layers = try layerSizes.enumerated().map { index, size in
            try put(fetchTestPayload(size: size, seed: seed &* 1000 &+ UInt64(index)), MediaType.ociLayerTar)
        }
        let config = try put(ByteBuffer(string: #"{"architecture":"amd64","os":"linux","seed":\#(seed)}"#), MediaType.ociConfig)
        let manifestText = #"{"schemaVersion":2,"mediaType":"\#(MediaType.ociManifest)","config":\#(json(config.descriptor)),"layers":[\#(layers.map { json($0.descriptor) }.joined(separator: ","))]}"#
        let manifest = try put(ByteBuffer(string: manifestText), MediaType.ociManifest)
        let index = #"{"schemaVersion":2,"manifests":[{"mediaType":"\#(MediaType.ociManifest)","digest":"\#(manifest.digest)","size":\#(manifest.size),"annotations":{"io.containerd.image.name":"\#(reference)"}}]}"#
        try Data(index.utf8).write(to: URL(fileURLWithPath: "\(path)/index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: "\(path)/oci-layout"))
        return TestLayout(
            path: path, reference: try ImageReference(reference), manifest: manifest, config: config, layers: layers)
    }
}

/// A temporary directory, removed when the last reference goes.
final class TestScratch: Sendable {
    let path: String

    init(_ prefix: String = "gm-registry-test") throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
