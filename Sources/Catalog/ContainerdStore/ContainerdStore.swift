import Foundation
import Logging

/// A node's containerd as a `ContentStore`: image records and events through its
/// gRPC API on the unix socket, blobs straight from its content directory.
///
/// - Images come from `Images.List` in one namespace (the `containerd-namespace`
///   header on every call).
/// - Blobs are served from `<root>/io.containerd.content.v1.content/blobs/sha256/<hex>`
///   as `.file` (about 10x faster than the content API over gRPC). A file's
///   presence does not prove the namespace holds it, so every blob is confirmed
///   with `Content.Info` first (positive answers cached for `infoCacheTTL`).
///   Without access to the directory, blobs stream through `Content.Read`.
/// - `events()` follows `Events.Subscribe`, ticks a periodic re-list, and reports
///   containerd going away and coming back (see `ContainerdEventFeed`).
///
/// The connection is made lazily and re-made after a containerd restart; a store
/// may be created before containerd runs. Call `shutdown()` when done.
public final class ContainerdStore: ContentStore {
    public let configuration: ContainerdConfiguration
    /// The `blobs/sha256` directory blobs are read from directly, or nil when every
    /// blob goes through the content API.
    public let blobsDirectory: String?

    let connection: ContainerdConnection
    let contentRoot: ContainerdContentRoot?
    private let infoCache: ContainerdInfoCache
    private let feeds = ContainerdFeedRegistry()
    private let logger: Logger

    /// Throws `ContainerdError.invalidNamespace` for a namespace containerd would
    /// refuse; a missing socket is not an error here (containerd may start later)
    /// but is reported by calls and by `events()`.
    public init(
        configuration: ContainerdConfiguration = ContainerdConfiguration(),
        logger: Logger = Logger(label: "gossip-mirror.catalog.containerd")
    ) throws {
        guard ContainerdConfiguration.isValidNamespace(configuration.namespace) else {
            throw ContainerdError.invalidNamespace(configuration.namespace)
        }
        var logger = logger
        logger[metadataKey: "containerd-namespace"] = "\(configuration.namespace)"
        self.configuration = configuration
        self.logger = logger
        self.connection = try ContainerdConnection(
            socketPath: configuration.socketPath,
            namespace: configuration.namespace,
            callTimeout: configuration.callTimeout,
            logger: logger
        )
        self.infoCache = ContainerdInfoCache(ttl: configuration.infoCacheTTL)
        self.contentRoot = ContainerdContentRoot.resolve(configured: configuration.contentRoot)
        self.blobsDirectory = contentRoot?.blobsDirectory

        if let contentRoot {
            logger.info("serving containerd blobs from disk", metadata: ["directory": "\(contentRoot.blobsDirectory)"])
        } else {
            let root = configuration.contentRoot ?? ContainerdConfiguration.defaultRoot
            logger.warning(
                "no readable containerd content directory: blobs will stream through the content API (about 10x slower); set --containerd-content-root and run as root to read them from disk",
                metadata: ["root": "\(root)"]
            )
        }
        if let problem = ContainerdSocketCheck.problem(at: configuration.socketPath) {
            logger.warning("\(problem)")
        }
    }

    deinit {
        shutdown()
    }

    /// Ends every `events()` stream and closes the connection; later calls fail.
    public func shutdown() {
        feeds.closeAll()
        connection.close()
    }

    // MARK: ContentStore

    public func listImages() async throws -> [ImageRecord] {
        try await connection.listImages().compactMap(record)
    }

    /// One image by its full name (what an image event names), or nil if the
    /// namespace has no image of that name.
    public func image(named name: String) async throws -> ImageRecord? {
        try await connection.image(named: name).flatMap(record)
    }

    public func size(of digest: Digest) async throws -> Int64? {
        if let size = await infoCache.size(of: digest) { return size }
        guard let info = try await connection.info(digest) else { return nil }
        guard info.digest == digest.description, info.size >= 0 else {
            throw ContainerdError.protocolViolation("Content.Info for \(digest) answered \(info.digest) of \(info.size) bytes")
        }
        await infoCache.remember(digest, size: info.size)
        return info.size
    }

    public func open(_ digest: Digest, expectedSize: Int64?) async throws -> BlobSource {
        guard let size = try await size(of: digest) else {
            throw ContainerdError.notFound("blob \(digest)")
        }
        if let expectedSize, expectedSize != size {
            throw ContainerdError.notFound("blob \(digest) of \(expectedSize) bytes (the store has \(size))")
        }
        if let file = contentRoot?.openFile(digest, size: size) {
            return .file(file)
        }
        return .stream(size: size, chunks: ContainerdBlobStream.chunks(of: digest, size: size, from: connection))
    }

    public func read(_ digest: Digest, limit: Int) async throws -> [UInt8] {
        guard let size = try await size(of: digest) else {
            throw ContainerdError.notFound("blob \(digest)")
        }
        guard size <= Int64(limit) else {
            throw ContainerdError.blobTooLarge(digest: digest, size: size, limit: limit)
        }
        // The file may vanish (garbage collection) between the check and the read:
        // then fall back to the API, which answers for the namespace.
        if let file = contentRoot?.openFile(digest, size: size), let bytes = try? file.readAll(limit: limit) {
            return bytes
        }
        if size == 0 { return [] }
        let bytes = try await connection.read(digest, offset: 0, size: size)
        guard Int64(bytes.count) == size else {
            throw ContainerdError.protocolViolation("Content.Read of \(digest) returned \(bytes.count) of \(size) bytes")
        }
        return bytes
    }

    /// A new feed of changes: `.availability(true, …)` and `.imagesChanged` once
    /// containerd answers, `.imagesChanged` on every image event of the namespace and
    /// every `relistInterval`, `.availability(false, …)` when containerd goes away.
    /// Each call makes its own subscription; the stream ends on `shutdown()`.
    public func events() -> AsyncStream<StoreEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: StoreEvent.self)
        let cache = infoCache
        let feed = ContainerdEventFeed(
            connection: connection,
            configuration: configuration,
            logger: logger,
            onChange: { await cache.removeAll() }
        )
        let task = Task { await feed.run(continuation) }
        guard let id = feeds.insert(task, continuation) else {
            task.cancel()
            continuation.finish()
            return stream
        }
        let feeds = self.feeds
        continuation.onTermination = { _ in
            task.cancel()
            feeds.remove(id)
        }
        return stream
    }

    // MARK: Helpers

    /// An `ImageRecord`, or nil (logged) for a target this mirror cannot serve.
    private func record(_ image: Containerd_Services_Images_V1_Image) -> ImageRecord? {
        guard image.hasTarget, let digest = Digest(image.target.digest) else {
            logger.debug(
                "skipping image without a sha256 target",
                metadata: ["image": "\(image.name)", "target": "\(image.target.digest)"]
            )
            return nil
        }
        let target = Descriptor(mediaType: image.target.mediaType, digest: digest, size: image.target.size)
        return ImageRecord(name: image.name, target: target)
    }
}
