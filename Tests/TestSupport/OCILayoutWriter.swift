import Catalog
import struct Crypto.SHA256
import Foundation

/// The tests' one writer of OCI image layouts (image-spec `image-layout.md`):
/// `oci-layout`, blobs under `blobs/sha256/<hex>`, and `index.json`. Small
/// blobs are written from bytes (`addBlob`), large ones hashed elsewhere at
/// native speed are moved in (`moveBlob`); the documents are built with
/// `manifest`, `index` and `writeIndex`. `TestImageBuilder` makes whole
/// images on top of it.
public struct OCILayoutWriter: Sendable {
    public let root: String

    /// Creates `root/blobs/sha256` and `root/oci-layout` (an existing layout is kept).
    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root + "/blobs/sha256", withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: root + "/oci-layout"))
    }

    /// The descriptor of `bytes`, without writing them (swift-crypto's SHA-256:
    /// fast in debug builds too).
    public static func describe(_ bytes: [UInt8], mediaType: String) -> Descriptor {
        let digest = Digest(sha256: Array(Crypto.SHA256.hash(data: bytes)))!
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
    }

    /// Stores `bytes` as a blob and returns its descriptor.
    @discardableResult
    public func addBlob(_ bytes: [UInt8], mediaType: String) throws -> Descriptor {
        let descriptor = Self.describe(bytes, mediaType: mediaType)
        try Data(bytes).write(to: URL(fileURLWithPath: blobPath(descriptor.digest)))
        return descriptor
    }

    /// Moves the file at `path`, whose digest the caller computed, into the
    /// layout (replacing a blob of the same digest); returns its descriptor.
    @discardableResult
    public func moveBlob(from path: String, digest: Digest, mediaType: String) throws -> Descriptor {
        let target = blobPath(digest)
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: target) { try fileManager.removeItem(atPath: target) }
        try fileManager.moveItem(atPath: path, toPath: target)
        let size = (try fileManager.attributesOfItem(atPath: target)[.size] as? NSNumber)?.int64Value ?? 0
        return Descriptor(mediaType: mediaType, digest: digest, size: size)
    }

    public func blobPath(_ digest: Digest) -> String { root + "/blobs/sha256/" + digest.hex }

    public func removeBlob(_ digest: Digest) throws { try FileManager.default.removeItem(atPath: blobPath(digest)) }

    /// Writes `index.json` with the given entries (atomically, by rename).
    public func writeIndex(_ entries: [(Descriptor, annotations: [String: String])]) throws {
        let bytes = try Self.json([
            "schemaVersion": 2, "mediaType": MediaType.ociIndex,
            "manifests": entries.map { Self.object($0.0, extra: $0.annotations.isEmpty ? [:] : ["annotations": $0.annotations]) },
        ])
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/index.json"), options: .atomic)
    }

    /// Writes `index.json` naming `descriptor` as `tag` (`org.opencontainers.image.ref.name`,
    /// which skopeo's `oci:DIR:TAG` and the mirror's OCI-layout store read).
    public func writeIndex(tagging descriptor: Descriptor, as tag: String) throws {
        try writeIndex([(descriptor, ["org.opencontainers.image.ref.name": tag])])
    }

    // MARK: Documents

    /// JSON bytes of a document (sorted keys, so equal documents hash equally).
    public static func json(_ object: Any) throws -> [UInt8] {
        [UInt8](try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// A descriptor as a JSON object, with `extra` fields (platform, annotations).
    public static func object(_ descriptor: Descriptor, extra: [String: Any] = [:]) -> [String: Any] {
        var object: [String: Any] = [
            "mediaType": descriptor.mediaType, "digest": descriptor.digest.description, "size": descriptor.size,
        ]
        for (key, value) in extra { object[key] = value }
        return object
    }

    /// A manifest document naming `config` and `layers`.
    public static func manifest(config: Descriptor, layers: [Descriptor], mediaType: String = MediaType.ociManifest) throws
        -> [UInt8]
    {
        try json([
            "schemaVersion": 2, "mediaType": mediaType,
            "config": object(config), "layers": layers.map { object($0) },
        ])
    }

    /// An image config for `os/architecture` whose `rootfs.diff_ids` are `diffIDs`
    /// (the digests of the uncompressed layers, which containerd verifies when unpacking).
    public static func config(architecture: String, os: String = "linux", diffIDs: [Digest]) throws -> [UInt8] {
        try json([
            "architecture": architecture, "os": os,
            "rootfs": ["type": "layers", "diff_ids": diffIDs.map(\.description)],
        ])
    }

    /// An index document naming `manifests`, each with a platform.
    public static func index(
        _ manifests: [(Descriptor, architecture: String)], os: String = "linux", mediaType: String = MediaType.ociIndex
    ) throws -> [UInt8] {
        try json([
            "schemaVersion": 2, "mediaType": mediaType,
            "manifests": manifests.map { object($0.0, extra: ["platform": ["os": os, "architecture": $0.architecture]]) },
        ])
    }

    /// A single-platform image with random layers (raw bytes, not tar
    /// archives: for stores and catalogs, which never unpack): returns the
    /// manifest descriptor and every blob descriptor (manifest, config,
    /// layers), written to the layout when `write` is true.
    public func makeImage(
        layerSizes: [Int], architecture: String, write: Bool, rng: inout SplitMix64,
        mediaTypes: (manifest: String, config: String, layer: String) =
            (MediaType.ociManifest, MediaType.ociConfig, MediaType.ociLayerGzip)
    ) throws -> (manifest: Descriptor, blobs: [Descriptor]) {
        let layers = layerSizes.map { rng.bytes($0) }
        let layerDescriptors = layers.map { Self.describe($0, mediaType: mediaTypes.layer) }
        let config = try Self.config(architecture: architecture, diffIDs: layerDescriptors.map(\.digest))
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
