import Foundation
import TestSupport
@testable import Catalog

extension SplitMix64 {
    mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count { withUnsafeBytes(of: next()) { out.append(contentsOf: $0) } }
        return Array(out.prefix(count))
    }

    /// 32 random bytes: a random sha256 output.
    mutating func summaryKey() -> SummaryKey { SummaryKey(bytes: bytes(32))! }

    mutating func digest() -> Digest { Digest(sha256: bytes(32))! }
}

/// A directory under the system temporary directory, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init(_ label: String = "catalog-tests") throws {
        path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Writes OCI image layouts for tests: blobs with real sha256 names, JSON
/// documents, and `index.json`.
struct OCILayoutFixture {
    let root: String

    init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root + "/blobs/sha256", withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: root + "/oci-layout"))
    }

    /// The descriptor of `bytes`, without writing them.
    static func describe(_ bytes: [UInt8], mediaType: String) -> Descriptor {
        Descriptor(mediaType: mediaType, digest: SHA256.hash(bytes), size: Int64(bytes.count))
    }

    /// Stores `bytes` as a blob and returns its descriptor.
    @discardableResult
    func addBlob(_ bytes: [UInt8], mediaType: String) throws -> Descriptor {
        let descriptor = Self.describe(bytes, mediaType: mediaType)
        try Data(bytes).write(to: URL(fileURLWithPath: blobPath(descriptor.digest)))
        return descriptor
    }

    func blobPath(_ digest: Digest) -> String { root + "/blobs/sha256/" + digest.hex }

    func removeBlob(_ digest: Digest) throws { try FileManager.default.removeItem(atPath: blobPath(digest)) }

    /// JSON bytes of a document (sorted keys, so equal documents hash equally).
    static func json(_ object: Any) throws -> [UInt8] {
        [UInt8](try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    static func object(_ descriptor: Descriptor, extra: [String: Any] = [:]) -> [String: Any] {
        var object: [String: Any] = [
            "mediaType": descriptor.mediaType, "digest": descriptor.digest.description, "size": descriptor.size,
        ]
        for (key, value) in extra { object[key] = value }
        return object
    }

    /// A manifest document naming `config` and `layers`.
    static func manifest(config: Descriptor, layers: [Descriptor], mediaType: String = MediaType.ociManifest) throws -> [UInt8] {
        try json([
            "schemaVersion": 2, "mediaType": mediaType,
            "config": object(config), "layers": layers.map { object($0) },
        ])
    }

    /// An index document naming `manifests`, each with a platform.
    static func index(_ manifests: [(Descriptor, architecture: String)], mediaType: String = MediaType.ociIndex) throws -> [UInt8] {
        try json([
            "schemaVersion": 2, "mediaType": mediaType,
            "manifests": manifests.map { object($0.0, extra: ["platform": ["os": "linux", "architecture": $0.architecture]]) },
        ])
    }

    /// Writes `index.json` with the given entries (atomically, by rename).
    func writeIndex(_ entries: [(Descriptor, annotations: [String: String])]) throws {
        let bytes = try Self.json([
            "schemaVersion": 2, "mediaType": MediaType.ociIndex,
            "manifests": entries.map { Self.object($0.0, extra: $0.annotations.isEmpty ? [:] : ["annotations": $0.annotations]) },
        ])
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/index.json"), options: .atomic)
    }

    /// A single-platform image with random layers: returns the manifest
    /// descriptor and every blob descriptor (manifest, config, layers), written
    /// to the layout when `write` is true.
    func makeImage(layerSizes: [Int], architecture: String, write: Bool, rng: inout SplitMix64,
                   mediaTypes: (manifest: String, config: String, layer: String) =
                       (MediaType.ociManifest, MediaType.ociConfig, MediaType.ociLayerGzip))
        throws -> (manifest: Descriptor, blobs: [Descriptor])
    {
        let layers = layerSizes.map { rng.bytes($0) }
        let layerDescriptors = layers.map { Self.describe($0, mediaType: mediaTypes.layer) }
        let config = try Self.json([
            "architecture": architecture, "os": "linux",
            "rootfs": ["type": "layers", "diff_ids": layerDescriptors.map(\.digest.description)],
        ])
        let configDescriptor = Self.describe(config, mediaType: mediaTypes.config)
        let manifest = try Self.manifest(config: configDescriptor, layers: layerDescriptors, mediaType: mediaTypes.manifest)
        let manifestDescriptor = Self.describe(manifest, mediaType: mediaTypes.manifest)
        if write {
            for layer in layers { try addBlob(layer, mediaType: mediaTypes.layer) }
            try addBlob(config, mediaType: mediaTypes.config)
            try addBlob(manifest, mediaType: mediaTypes.manifest)
        }
        return (manifestDescriptor, [manifestDescriptor, configDescriptor] + layerDescriptors)
    }
}

/// The first element of `stream` that satisfies `predicate`, or nil after `timeout`.
func firstElement<Element: Sendable>(
    of stream: AsyncStream<Element>, within timeout: Duration, where predicate: @escaping @Sendable (Element) -> Bool
) async -> Element? {
    await withTaskGroup(of: Element?.self) { group in
        group.addTask {
            for await element in stream where predicate(element) { return element }
            return nil
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
}
