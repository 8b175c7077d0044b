import Catalog
import Foundation

/// Writes a test image into an OCI image layout directory (with
/// `OCILayoutWriter`): random tar layers of chosen sizes, a config, a
/// manifest, and optionally an index of several platforms (each with its own
/// layers). Nothing is downloaded.
///
/// Layers are valid ustar archives holding one random file, so containerd can
/// unpack them; `size` is that file's size (the blob is about 1.5 KiB larger).
/// The config's `rootfs.diff_ids` are right, so unpacking verifies.
public struct TestImageBuilder: Sendable {
    /// The media types it writes (Catalog's names).
    public enum MediaType {
        public static let index = Catalog.MediaType.ociIndex
        public static let manifest = Catalog.MediaType.ociManifest
        public static let config = Catalog.MediaType.ociConfig
        public static let layer = Catalog.MediaType.ociLayerTar
        public static let gzipLayer = Catalog.MediaType.ociLayerGzip
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
        let layout = try OCILayoutWriter(root: directory)
        var platformImages: [TestImage.PlatformImage] = []
        for (index, platform) in (platforms ?? [.host]).enumerated() {
            platformImages.append(try await writeImage(platform: platform, number: index, into: layout))
        }

        let root: Descriptor
        if let platforms {
            precondition(Set(platforms.map(\.os)).count == 1, "one operating system per index")
            let index = try OCILayoutWriter.index(
                platformImages.map { ($0.manifest, architecture: $0.platform.architecture) }, os: platforms[0].os)
            root = try layout.addBlob(index, mediaType: MediaType.index)
        } else {
            root = platformImages[0].manifest
        }
        try layout.writeIndex(tagging: root, as: tag)
        return TestImage(layoutDirectory: directory, tag: tag, root: root, platforms: platformImages)
    }

    private func writeImage(platform: Platform, number: Int, into layout: OCILayoutWriter) async throws
        -> TestImage.PlatformImage
    {
        var layers: [Descriptor] = []
        var diffIDs: [Digest] = []
        for (index, size) in layerSizes.enumerated() {
            let name = "random-\(platform.architecture)-\(index).bin"
            let layerSeed = seed &+ UInt64(number) &* 1_000_003 &+ UInt64(index) &* 7919
            let (layer, diffID) = try await writeLayer(fileName: name, size: size, seed: layerSeed, into: layout)
            layers.append(layer)
            diffIDs.append(diffID)
        }
        let config = try layout.addBlob(
            OCILayoutWriter.config(architecture: platform.architecture, os: platform.os, diffIDs: diffIDs),
            mediaType: MediaType.config)
        let manifest = try layout.addBlob(
            OCILayoutWriter.manifest(config: config, layers: layers), mediaType: MediaType.manifest)
        return .init(platform: platform, manifest: manifest, config: config, layers: layers)
    }

    /// Writes one layer (a ustar archive of one random file, gzipped if asked)
    /// and returns its descriptor and its diff ID (the digest of the tar).
    private func writeLayer(fileName: String, size: Int, seed: UInt64, into layout: OCILayoutWriter) async throws
        -> (Descriptor, Digest)
    {
        let tar = layout.root + "/blobs/sha256/.tmp-\(UUID().uuidString).tar"
        try UstarWriter.writeRandomFile(named: fileName, size: size, to: tar, seed: seed)
        let diffID = try await Self.sha256(of: tar)
        switch compression {
        case .none:
            return (try layout.moveBlob(from: tar, digest: diffID, mediaType: MediaType.layer), diffID)
        case .gzip:
            // -n: no name or time stamp in the header, so the same tar gives the same blob.
            try await Subprocess.run(["gzip", "-n", "-f", tar])
            let gz = tar + ".gz"
            let digest = try await Self.sha256(of: gz)
            return (try layout.moveBlob(from: gz, digest: digest, mediaType: MediaType.gzipLayer), diffID)
        }
    }

    /// sha256sum reads files of hundreds of megabytes at native speed, without
    /// holding them in memory.
    static func sha256(of path: String) async throws -> Digest {
        let output = try await Subprocess.run(["sha256sum", path])
        guard let hex = output.stdout.split(separator: " ").first, let digest = Digest("sha256:" + hex) else {
            throw Subprocess.Failure(command: ["sha256sum", path], reason: "printed no digest", output: output)
        }
        return digest
    }
}
