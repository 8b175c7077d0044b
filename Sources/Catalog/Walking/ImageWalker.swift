import Logging

/// Finds the content of an image that a store really holds: from the image's
/// root descriptor through indexes and manifest lists to manifests, and from
/// manifests to their config and layers.
///
/// Each blob is advertised with the media type its parent gave it (containerd
/// does not record media types). Only present blobs of the right size are
/// reported, and only present documents are descended into, so an index of
/// which one platform was pulled yields the index plus that platform's
/// manifest, config and layers. Document size and nesting depth are bounded.
///
/// Documents are content-addressed and therefore immutable: the children of
/// each one read are cached across passes (presence is still checked every
/// time). Call `retainCache(only:)` after a pass to drop what is gone.
public struct ImageWalker: Sendable {
    public struct Limits: Hashable, Sendable {
        /// Larger indexes or manifests are advertised but not read (real ones
        /// are a few KiB; the distribution registry caps manifests at 4 MiB).
        public var maximumDocumentSize: Int = 4 * 1024 * 1024
        /// Root is depth 0; an index of indexes of manifests reaches 2.
        public var maximumDepth: Int = 8

        public init(maximumDocumentSize: Int = 4 * 1024 * 1024, maximumDepth: Int = 8) {
            self.maximumDocumentSize = maximumDocumentSize
            self.maximumDepth = maximumDepth
        }
    }

    public let limits: Limits
    private let logger: Logger
    private var documentCache: [Digest: ParsedDocument] = [:]

    public init(limits: Limits = Limits(), logger: Logger = Logger(label: "gossip-mirror.catalog.walker")) {
        self.limits = limits
        self.logger = logger
    }

    /// Walks one image. Throws only when the store itself fails (`size(of:)`
    /// throws); a document that vanished or does not parse is just not
    /// descended into.
    public mutating func walk(_ image: ImageRecord, in store: some ContentStore) async throws -> ImageContent {
        var content = ImageContent(root: image.target)
        var visited = Set<Digest>()
        try await visit(image.target, depth: 0, isRoot: true, store: store, content: &content, visited: &visited)
        return content
    }

    /// Forgets cached documents not in `digests` (e.g. everything no longer present).
    public mutating func retainCache(only digests: Set<Digest>) {
        documentCache = documentCache.filter { digests.contains($0.key) }
    }

    private mutating func visit(
        _ descriptor: Descriptor, depth: Int, isRoot: Bool, store: some ContentStore,
        content: inout ImageContent, visited: inout Set<Digest>
    ) async throws {
        guard visited.insert(descriptor.digest).inserted else { return }
        let size = try await store.size(of: descriptor.digest)
        guard let size, size == descriptor.size else {
            if let size {
                logger.warning("blob size differs from its descriptor; not advertised",
                               metadata: ["digest": "\(descriptor.digest)", "expected": "\(descriptor.size)", "found": "\(size)"])
            }
            content.missing.append(descriptor)
            return
        }
        content.present.append(descriptor)

        // Descend into documents: known index and manifest types, and a root
        // whose type is unknown (sniffed from its own mediaType field or shape).
        let type = descriptor.mediaType
        let isDocument = MediaType.isIndex(type) || MediaType.isManifest(type)
            || (isRoot && (type.isEmpty || type == MediaType.octetStream))
        guard isDocument else { return }
        guard depth < limits.maximumDepth else {
            logger.warning("image nesting deeper than \(limits.maximumDepth); not descending",
                           metadata: ["digest": "\(descriptor.digest)"])
            return
        }
        guard let document = await document(for: descriptor, store: store) else { return }
        if type.isEmpty || type == MediaType.octetStream, let ownType = document.mediaType, !ownType.isEmpty {
            content.present[content.present.count - 1].mediaType = ownType
        }
        for child in document.children {
            try await visit(child, depth: depth + 1, isRoot: false, store: store, content: &content, visited: &visited)
        }
    }

    /// What a walk keeps of a document.
    private struct ParsedDocument: Sendable {
        /// The document's own `mediaType` field, used when its parent gave none.
        var mediaType: String?
        var children: [Descriptor]
    }

    /// A document from the cache or by reading it; nil when it cannot be read
    /// or parsed.
    private mutating func document(for descriptor: Descriptor, store: some ContentStore) async -> ParsedDocument? {
        if let cached = documentCache[descriptor.digest] { return cached }
        guard descriptor.size <= Int64(limits.maximumDocumentSize) else {
            logger.warning("document larger than \(limits.maximumDocumentSize) bytes; not descending",
                           metadata: ["digest": "\(descriptor.digest)"])
            return nil
        }
        let document: ImageDocument
        do {
            let bytes = try await store.read(descriptor.digest, limit: limits.maximumDocumentSize)
            document = try ImageDocument.decode(bytes)
        } catch {
            logger.warning("cannot read document; not descending",
                           metadata: ["digest": "\(descriptor.digest)", "error": "\(error)"])
            return nil
        }
        let children = document.children.compactMap(\.descriptor)
        if children.count < document.children.count {
            logger.info("skipping descriptors with unsupported digests",
                        metadata: ["digest": "\(descriptor.digest)", "skipped": "\(document.children.count - children.count)"])
        }
        let parsed = ParsedDocument(mediaType: document.mediaType, children: children)
        documentCache[descriptor.digest] = parsed
        return parsed
    }
}

/// What a walk found for one image.
public struct ImageContent: Hashable, Sendable {
    /// The image's root (index or manifest) as its record names it.
    public var root: Descriptor
    /// Blobs present in the store, each with its parent's media type, in walk order.
    public var present: [Descriptor] = []
    /// Blobs named by present documents but absent (or of the wrong size).
    public var missing: [Descriptor] = []

    public init(root: Descriptor) { self.root = root }

    /// Whether the root itself is present: only then is the image's tag advertised.
    public var isRootPresent: Bool { present.first?.digest == root.digest }
}
