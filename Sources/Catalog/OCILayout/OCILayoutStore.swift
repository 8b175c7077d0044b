#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// A content store over an OCI image layout directory (`oci-layout`,
/// `index.json`, `blobs/sha256/<hex>`), for edge and air-gapped sites that
/// preload images, and for tests. Strictly read-only; nothing is followed out
/// of the layout (see `ConfinedDirectory`).
///
/// Images are the entries of `index.json`. Each is named, in this order, by
/// - its `io.containerd.image.name` annotation (`ctr export` writes it), a
///   fully qualified reference (`ImageReference(qualified:)`);
/// - its `org.opencontainers.image.ref.name` annotation: a reference in
///   Docker's familiar grammar if it contains `/`, `:` or `@`, else a bare tag (`1.0`, as the image layout spec
///   intends) of `Configuration.defaultRepository`;
/// - with neither, `defaultRepository@<digest>`, so its content is still
///   advertised.
/// Entries that cannot be named that way (no default repository) or whose name
/// does not parse are skipped, logged, and listed by `skippedImages()`.
public struct OCILayoutStore: ContentStore {
    public struct Configuration: Sendable {
        /// The registry and repository that bare tags and unnamed entries
        /// belong to (its tag and digest are ignored), e.g.
        /// `ImageReference("registry.local/preloaded/app")`. Nil: such entries
        /// are skipped.
        public var defaultRepository: ImageReference?
        /// How often `events()` checks `index.json` for changes.
        public var pollInterval: Duration
        /// `index.json` larger than this is refused.
        public var maximumIndexSize: Int

        public init(defaultRepository: ImageReference? = nil, pollInterval: Duration = .seconds(2),
                    maximumIndexSize: Int = 4 * 1024 * 1024) {
            self.defaultRepository = defaultRepository
            self.pollInterval = pollInterval
            self.maximumIndexSize = maximumIndexSize
        }
    }

    /// The annotation the image layout spec uses for a reference name.
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"
    /// The annotation containerd's exporter uses for the full image name.
    public static let containerdImageNameAnnotation = "io.containerd.image.name"

    private let directory: ConfinedDirectory
    /// Blobs are opened from here (no links followed); `directory` reads the
    /// layout's own files.
    private let blobs: BeneathRoot
    public let configuration: Configuration
    private let logger: Logger

    /// The canonical path of the layout directory.
    public var path: String { directory.root }

    /// Opens a layout directory; throws if `path` is not a directory. The
    /// layout files themselves are checked on every `listImages()`, so a layout
    /// that is being written may become valid later.
    public init(path: String, configuration: Configuration = Configuration(),
                logger: Logger = Logger(label: "gossip-mirror.catalog.oci-layout")) throws(OCILayoutError) {
        self.directory = try ConfinedDirectory(path: path)
        self.blobs = BeneathRoot(path: directory.root)
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: ContentStore

    public func listImages() async throws -> [ImageRecord] {
        let listing = try listing()
        for skipped in listing.skipped {
            logger.warning("skipping index.json entry: \(skipped.reason)", metadata: ["name": "\(skipped.name)", "digest": "\(skipped.digest)"])
        }
        return listing.images
    }

    /// The entries of `index.json` that `listImages` leaves out, and why.
    public func skippedImages() async -> [SkippedImage] {
        (try? listing())?.skipped ?? []
    }

    /// The images of `index.json` and the entries that cannot be shared.
    func listing() throws -> (images: [ImageRecord], skipped: [SkippedImage]) {
        try checkLayoutMarker()
        let index: ImageDocument
        do {
            index = try ImageDocument.decode(directory.read("index.json", limit: configuration.maximumIndexSize))
        } catch let error as OCILayoutError {
            throw error
        } catch {
            throw OCILayoutError.notAnOCILayout("index.json does not decode: \(error)")
        }

        var images: [ImageRecord] = []
        var skipped: [SkippedImage] = []
        var seen = Set<String>()
        for entry in index.manifests ?? [] {
            let label = entry.annotations?[Self.containerdImageNameAnnotation] ?? entry.annotations?[Self.refNameAnnotation] ?? "(unnamed)"
            guard let target = entry.descriptor else {
                skipped.append(SkippedImage(name: label, digest: entry.digest, reason: "unsupported digest (only sha256 is served)"))
                continue
            }
            let reference: ImageReference
            switch name(of: entry, target: target.digest) {
            case .success(let named): reference = named
            case .failure(let reason):
                skipped.append(SkippedImage(name: label, digest: entry.digest, reason: reason.text))
                continue
            }
            guard seen.insert(reference.description).inserted else {
                skipped.append(SkippedImage(name: label, digest: entry.digest, reason: "\(reference) is named by an earlier entry"))
                continue
            }
            images.append(ImageRecord(name: reference.description, target: target))
        }
        return (images, skipped)
    }

    /// The size of a blob that `open` would serve (a regular file, no link).
    public func size(of digest: Digest) async throws -> Int64? {
        blobs.regularFileSize(Self.blobComponents(digest))
    }

    /// A `.file` opened without following any link beneath the layout's
    /// root and checked with `fstat` (see `BeneathRoot`): a blob swapped for
    /// a link, even inside the layout, is refused.
    public func open(_ digest: Digest, expectedSize: Int64?) async throws -> BlobSource {
        .file(try openBlob(digest, expectedSize: expectedSize))
    }

    public func read(_ digest: Digest, limit: Int) async throws -> [UInt8] {
        let file = try openBlob(digest, expectedSize: nil)
        do { return try file.readAll(limit: limit) } catch {
            if case .tooLarge(let size, let limit) = error { throw OCILayoutError.tooLarge(Self.blobPath(digest), size: size, limit: limit) }
            throw OCILayoutError.unservable(Self.blobPath(digest), reason: error)
        }
    }

    private func openBlob(_ digest: Digest, expectedSize: Int64?) throws(OCILayoutError) -> BlobFile {
        do { return try blobs.open(Self.blobComponents(digest), expectedSize: expectedSize) } catch {
            if case .missing = error { throw .fileNotFound(Self.blobPath(digest)) }
            throw .unservable(Self.blobPath(digest), reason: error)
        }
    }

    /// Polls `index.json` every `pollInterval` and yields `.imagesChanged` when
    /// it was rewritten or replaced, `.availability` when it disappears or
    /// comes back. Each call starts its own poller, stopped when the stream's
    /// consumer goes away.
    public func events() -> AsyncStream<StoreEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: StoreEvent.self)
        let directory = directory
        let interval = configuration.pollInterval
        let poller = Task {
            var last = directory.fingerprint("index.json")
            var available = last != nil
            if !available { continuation.yield(.availability(available: false, detail: "index.json is missing")) }
            while true {
                do { try await Task.sleep(for: interval) } catch { break }
                let current = directory.fingerprint("index.json")
                if current == nil, available {
                    available = false
                    continuation.yield(.availability(available: false, detail: "index.json is missing"))
                } else if current != nil, !available {
                    available = true
                    continuation.yield(.availability(available: true, detail: "index.json is back"))
                    continuation.yield(.imagesChanged)
                } else if current != last {
                    continuation.yield(.imagesChanged)
                }
                last = current
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in poller.cancel() }
        return stream
    }

    // MARK: Layout

    static func blobPath(_ digest: Digest) -> String { "blobs/sha256/" + digest.hex }
    /// `Digest` admits only 64 lowercase hex characters: no `/`, no `..`.
    static func blobComponents(_ digest: Digest) -> [String] { ["blobs", "sha256", digest.hex] }

    private struct LayoutMarker: Decodable { var imageLayoutVersion: String }

    /// `oci-layout` must exist and declare a 1.x layout.
    private func checkLayoutMarker() throws {
        let marker: LayoutMarker
        do {
            marker = try JSONDecoder().decode(LayoutMarker.self, from: Data(directory.read("oci-layout", limit: 4096)))
        } catch {
            throw OCILayoutError.notAnOCILayout("oci-layout: \(error)")
        }
        guard marker.imageLayoutVersion.hasPrefix("1.") else {
            throw OCILayoutError.notAnOCILayout("unsupported imageLayoutVersion \(marker.imageLayoutVersion)")
        }
    }

    /// Why an entry has no usable name.
    struct Unnamed: Error {
        var text: String
    }

    /// The normalised name of an `index.json` entry (see the type's doc).
    private func name(of entry: DocumentDescriptor, target: Digest) -> Result<ImageReference, Unnamed> {
        let annotations = entry.annotations ?? [:]
        let defaultRepository = configuration.defaultRepository
        do {
            if let full = annotations[Self.containerdImageNameAnnotation] {
                return .success(try ImageReference(qualified: full))  // containerd's own name
            }
            if let refName = annotations[Self.refNameAnnotation] {
                if refName.contains(where: { $0 == "/" || $0 == ":" || $0 == "@" }) {
                    return .success(try ImageReference(refName))
                }
                guard let defaultRepository else {
                    return .failure(Unnamed(text: "named by a bare tag, and no repository is configured for bare tags (--oci-layout-repository)"))
                }
                return .success(try ImageReference(registry: defaultRepository.registry,
                                                   repository: defaultRepository.repository, tag: refName))
            }
            guard let defaultRepository else {
                return .failure(Unnamed(text: "unnamed, and no repository is configured for such entries (--oci-layout-repository)"))
            }
            return .success(try ImageReference(registry: defaultRepository.registry,
                                               repository: defaultRepository.repository, digest: target))
        } catch {
            return .failure(Unnamed(text: "invalid name: \(error)"))
        }
    }
}
