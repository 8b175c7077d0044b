import Logging

/// Turns a store's image list into a snapshot: names are parsed and
/// normalised, the registry filter decides which images count, and each
/// admitted image is walked for its present content.
struct CatalogScanner: Sendable {
    var walker: ImageWalker
    let filter: RegistryFilter
    let logger: Logger

    /// Throws when the store fails; the caller keeps its previous snapshot.
    mutating func scan(_ store: some ContentStore) async throws -> CatalogSnapshot {
        // Name order makes "first media type met" deterministic.
        let images = try await store.listImages().sorted { $0.name < $1.name }
        let matcher = filter.matcher()
        var snapshot = CatalogSnapshot()
        for image in images {
            let reference: ImageReference
            do {
                // Store names are fully qualified (see `ImageRecord.name`).
                reference = try ImageReference(qualified: image.name)
            } catch {
                logger.debug("not advertising image with an unparseable name",
                             metadata: ["name": "\(image.name)", "error": "\(error)"])
                continue
            }
            guard matcher.admits(reference) else { continue }
            let content = try await walker.walk(image, in: store)
            for descriptor in content.present where snapshot.blobs[descriptor.digest] == nil {
                snapshot.blobs[descriptor.digest] = descriptor
            }
            if content.isRootPresent, let tagKey = reference.tagKey, let root = content.present.first {
                snapshot.tags[tagKey] = root
            }
        }
        walker.retainCache(only: Set(snapshot.blobs.keys))
        return snapshot
    }
}
