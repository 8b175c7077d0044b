/// A descriptor as in the OCI image spec: what a parent says about a child.
public struct Descriptor: Hashable, Sendable, Codable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64

    public init(mediaType: String, digest: Digest, size: Int64) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
    }
}

/// An image known to a content store: its full name (`registry/repository:tag`,
/// or `registry/repository@sha256:…`) and the descriptor of its root (an index
/// or a manifest).
public struct ImageRecord: Hashable, Sendable {
    /// Fully qualified, as containerd stores names: the first component is
    /// the registry (read it with `ImageReference(qualified:)`, not with the
    /// familiar grammar, which takes `myhost/app:1` for a Docker Hub image).
    public var name: String
    public var target: Descriptor

    public init(name: String, target: Descriptor) {
        self.name = name
        self.target = target
    }
}

/// How to read a blob. A `file` is a committed, immutable file, already open
/// and checked (see `BlobFile`), that may be served zero-copy; anything else
/// comes through `stream`.
public enum BlobSource: Sendable {
    case file(BlobFile)
    case stream(size: Int64, chunks: AsyncThrowingStream<[UInt8], any Error>)

    public var size: Int64 {
        switch self {
        case .file(let file): file.size
        case .stream(let size, _): size
        }
    }
}

/// A change in a store that may change what this node advertises.
public enum StoreEvent: Sendable, Equatable {
    /// Something changed: re-list images (containerd gives names, not digests).
    case imagesChanged
    /// The store became reachable or unreachable; `detail` says why for status pages.
    case availability(available: Bool, detail: String)
}

/// A node's local content: containerd's store, or an OCI image layout directory.
public protocol ContentStore: Sendable {
    /// Every image the store currently names.
    func listImages() async throws -> [ImageRecord]
    /// The size of a blob if the store holds it completely, else nil.
    func size(of digest: Digest) async throws -> Int64?
    /// Opens a blob for reading; throws if it is not present, or not of
    /// `expectedSize` bytes when that is given.
    func open(_ digest: Digest, expectedSize: Int64?) async throws -> BlobSource
    /// Reads a small blob (a manifest, an index, a config) entirely.
    func read(_ digest: Digest, limit: Int) async throws -> [UInt8]
    /// Changes as they happen; ends when the store is shut down.
    func events() -> AsyncStream<StoreEvent>
    /// Entries the store holds but `listImages` leaves out, and why
    /// (see `SkippedImage`; a default returns none).
    func skippedImages() async -> [SkippedImage]
}

extension ContentStore {
    /// Opens a blob of whatever size the store has.
    public func open(_ digest: Digest) async throws -> BlobSource {
        try await open(digest, expectedSize: nil)
    }
}
