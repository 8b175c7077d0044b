import Catalog
import Logging
import NIOCore

/// What this node holds, as the handler serves it: manifests by tag or
/// digest from the catalog's snapshot, and blobs opened from the store
/// (zero-copy from a file when the store has one).
struct LocalContent: Sendable {
    let catalog: LocalCatalog
    let store: any ContentStore
    let logger: Logger

    /// The manifest or index `reference` names here, read whole.
    func manifest(_ reference: ImageReference, limit: Int) async -> (descriptor: Descriptor, bytes: [UInt8])? {
        let found: Descriptor?
        if let digest = reference.digest { found = await catalog.lookup(digest) } else { found = await catalog.resolve(reference) }
        guard let found else { return nil }
        do {
            return (found, try await store.read(found.digest, limit: limit))
        } catch {
            // Listed but unreadable (garbage-collected a moment ago): not here.
            logger.debug("local manifest unreadable", metadata: ["digest": "\(found.digest)", "error": "\(error)"])
            return nil
        }
    }

    /// The blob, opened: a descriptor checked by the store (see `BlobFile`)
    /// that the server hands to sendfile, or the store's stream.
    func blob(_ digest: Digest) async -> (size: Int64, body: BlobBody)? {
        guard let descriptor = await catalog.lookup(digest) else { return nil }
        let source: BlobSource
        do { source = try await store.open(descriptor.digest, expectedSize: descriptor.size) } catch {
            logger.debug("local blob not served", metadata: ["digest": "\(descriptor.digest)", "error": "\(error)"])
            return nil
        }
        switch source {
        case .file(let file):
            // The very descriptor the store opened and checked (no second
            // open by path); it keeps working even if containerd's GC
            // unlinks the file meanwhile.
            guard let fd = file.takeDescriptor() else { return nil }
            return (file.size, .file(NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)))
        case .stream(let size, let chunks):
            return (size, .stream { range in StoreChunks(chunks, range: range).stream() })
        }
    }
}
