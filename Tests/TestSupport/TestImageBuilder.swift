import Catalog
import Foundation

/// Writes a test image into an OCI image layout directory: random tar layers of
/// chosen sizes, a config, a manifest, and optionally an index of several
/// platforms (each with its own layers). Nothing is downloaded.
///
/// Layers are valid ustar archives holding one random file, so containerd can
/// unpack them; `size` is that file's size (the blob is about 1.5 KiB larger).
/// The config's `rootfs.diff_ids` are right, so unpacking verifies.
public struct TestImageBuilder: Sendable {
    public enum MediaType {
        public static let index = "application/vnd.oci.image.index.v1+json"
        public static let manifest = "application/vnd.oci.image.manifest.v1+json"
        public static let config = "application/vnd.oci.image.config.v1+json"
        public static let layer = "application/vnd.oci.image.layer.v1.tar"
        public static let gzipLayer = "application/vnd.oci.image.layer.v1.tar+gzip"
    }

    public struct Platform: Sendable, Hashable, Codable, CustomStringConvertible {
        public var os: String
        public var architecture: String

        public init(os: String = "linux", architecture: String) {
            self.os = os
            self.architecture = architecture
        }

        public static let amd64 = Platform(architecture: "amd64")
        public static let arm64 = Platform(architecture: "arm64")

        /// linux and this machine's CPU, as OCI names it.
        public static var host: Platform {
            #if arch(arm64)
            return .arm64
            #else
            return .amd64
            #endif
        }

        public var description: String { "\(os)/\(architecture)" }
    }

    public enum Compression: Sendable {
        /// `application/vnd.oci.image.layer.v1.tar`
        case none
        /// `…tar+gzip`, compressed by the `gzip` program.
        case gzip
    }

    /// Size in bytes of the random file in each layer, in order.
    public var layerSizes: [Int]
    public var compression: Compression
    /// nil: a single manifest for the host platform. Otherwise an index with one
    /// manifest per platform, each with its own random layers.
    public var platforms: [Platform]?
    /// Seeds the random content; different seeds give different digests.
    public var seed: UInt64

    public init(
        layerSizes: [Int] = [4096, 256 * 1024],
        compression: Compression = .none,
        platforms: [Platform]? = nil,
        seed: UInt64 = UInt64.random(in: 1...UInt64.max)
    ) {
        self.layerSizes = layerSizes
        self.compression = compression
        self.platforms = platforms
        self.seed = seed
    }

    /// An index of linux/amd64 and linux/arm64.
    public static func multiPlatform(layerSizes: [Int] = [4096, 256 * 1024], compression: Compression = .none) -> Self {
        TestImageBuilder(layerSizes: layerSizes, compression: compression, platforms: [.amd64, .arm64])
    }

    /// Writes the image into `directory` (created if needed; an existing layout is
    /// replaced) under `tag`.
    public func write(to directory: String, tag: String) async throws -> TestImage {
        let fileManager = FileManager.default
        let blobs = directory + "/blobs/sha256"
        try fileManager.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        let layout = BlobWriter(blobs: blobs)

        var platformImages: [TestImage.PlatformImage] = []
        for (index, platform) in (platforms ?? [.host]).enumerated() {
            platformImages.append(try await writeImage(platform: platform, number: index, into: layout))
        }

        let root: Descriptor
        if platforms == nil {
            root = platformImages[0].manifest
        } else {
            let index = OCIIndex(
                mediaType: MediaType.index,
                manifests: platformImages.map {
                    OCIDescriptor($0.manifest, platform: $0.platform)
                }
            )
            root = try layout.writeJSON(index, mediaType: MediaType.index)
        }

        var rootEntry = OCIDescriptor(root)
        rootEntry.annotations = ["org.opencontainers.image.ref.name": tag]
        let layoutIndex = OCIIndex(mediaType: MediaType.index, manifests: [rootEntry])
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/oci-layout"))
        try JSONCoding.encode(layoutIndex).write(to: URL(fileURLWithPath: directory + "/index.json"))

        return TestImage(layoutDirectory: directory, tag: tag, root: root, platforms: platformImages)
    }

    private func writeImage(platform: Platform, number: Int, into layout: BlobWriter) async throws -> TestImage.PlatformImage {
        var layers: [Descriptor] = []
        var diffIDs: [String] = []
        for (index, size) in layerSizes.enumerated() {
            let name = "random-\(platform.architecture)-\(index).bin"
            let layerSeed = seed &+ UInt64(number) &* 1_000_003 &+ UInt64(index) &* 7919
            let (layer, diffID) = try await layout.writeLayer(
                fileName: name, size: size, seed: layerSeed, compression: compression)
            layers.append(layer)
            diffIDs.append(diffID.description)
        }
        let config = OCIConfig(
            architecture: platform.architecture,
            os: platform.os,
            rootfs: .init(type: "layers", diff_ids: diffIDs)
        )
        let configDescriptor = try layout.writeJSON(config, mediaType: MediaType.config)
        let manifest = OCIManifest(
            schemaVersion: 2,
            mediaType: MediaType.manifest,
            config: OCIDescriptor(configDescriptor),
            layers: layers.map { OCIDescriptor($0) }
        )
        let manifestDescriptor = try layout.writeJSON(manifest, mediaType: MediaType.manifest)
        return .init(platform: platform, manifest: manifestDescriptor, config: configDescriptor, layers: layers)
    }
}

/// Puts blobs into a layout's `blobs/sha256` under their digest.
private struct BlobWriter {
    let blobs: String

    func writeJSON(_ value: some Encodable, mediaType: String) throws -> Descriptor {
        let bytes = try JSONCoding.encode(value)
        let digest = SHA256.hash(bytes)
        try bytes.write(to: URL(fileURLWithPath: blobs + "/" + digest.hex))
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
    }

    /// Returns the layer's descriptor and its diff ID (the digest of the tar).
    func writeLayer(
        fileName: String,
        size: Int,
        seed: UInt64,
        compression: TestImageBuilder.Compression
    ) async throws -> (Descriptor, Digest) {
        let tar = blobs + "/.tmp-\(UUID().uuidString).tar"
        try UstarWriter.writeRandomFile(named: fileName, size: size, to: tar, seed: seed)
        let diffID = try await Self.sha256(of: tar)
        switch compression {
        case .none:
            return (try move(tar, digest: diffID, mediaType: TestImageBuilder.MediaType.layer), diffID)
        case .gzip:
            // -n: no name or time stamp in the header, so the same tar gives the same blob.
            try await Subprocess.run(["gzip", "-n", "-f", tar])
            let gz = tar + ".gz"
            let digest = try await Self.sha256(of: gz)
            return (try move(gz, digest: digest, mediaType: TestImageBuilder.MediaType.gzipLayer), diffID)
        }
    }

    private func move(_ path: String, digest: Digest, mediaType: String) throws -> Descriptor {
        let target = blobs + "/" + digest.hex
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: target) { try fileManager.removeItem(atPath: target) }
        try fileManager.moveItem(atPath: path, toPath: target)
        let size = (try fileManager.attributesOfItem(atPath: target)[.size] as? NSNumber)?.int64Value ?? 0
        return Descriptor(mediaType: mediaType, digest: digest, size: size)
    }

    /// sha256sum runs at native speed; the project's own SHA256 is plain Swift and
    /// slow in debug builds, which matters for layers of hundreds of megabytes.
    static func sha256(of path: String) async throws -> Digest {
        let output = try await Subprocess.run(["sha256sum", path])
        guard let hex = output.stdout.split(separator: " ").first, let digest = Digest("sha256:" + hex) else {
            throw Subprocess.Failure(command: ["sha256sum", path], reason: "printed no digest", output: output)
        }
        return digest
    }
}

// MARK: JSON documents of the OCI image spec (only the fields written here)

private enum JSONCoding {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

private struct OCIDescriptor: Encodable {
    var mediaType: String
    var digest: String
    var size: Int64
    var platform: TestImageBuilder.Platform?
    var annotations: [String: String]?

    init(_ descriptor: Descriptor, platform: TestImageBuilder.Platform? = nil) {
        mediaType = descriptor.mediaType
        digest = descriptor.digest.description
        size = descriptor.size
        self.platform = platform
    }
}

private struct OCIIndex: Encodable {
    var schemaVersion = 2
    var mediaType: String
    var manifests: [OCIDescriptor]
}

private struct OCIManifest: Encodable {
    var schemaVersion: Int
    var mediaType: String
    var config: OCIDescriptor
    var layers: [OCIDescriptor]
}

private struct OCIConfig: Encodable {
    struct RootFS: Encodable {
        var type: String
        var diff_ids: [String]
    }
    var architecture: String
    var os: String
    var rootfs: RootFS
}
