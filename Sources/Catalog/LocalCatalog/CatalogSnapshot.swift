/// What this node holds and advertises at one moment: present blobs with the
/// media type and size their parents gave them, and tags resolved to their
/// root descriptors.
public struct CatalogSnapshot: Hashable, Sendable {
    /// Every advertised blob (indexes, manifests, configs, layers) by digest.
    /// A blob reached from several images keeps the first media type met, in
    /// image-name order.
    public var blobs: [Digest: Descriptor]
    /// `registry/repository:tag` (normalised, see `ImageReference.tagKey`) to
    /// the image's root descriptor.
    public var tags: [String: Descriptor]

    public init(blobs: [Digest: Descriptor] = [:], tags: [String: Descriptor] = [:]) {
        self.blobs = blobs
        self.tags = tags
    }

    public static let empty = CatalogSnapshot()

    /// The entries of the summary: every blob digest and every tag key.
    public var summaryKeys: Set<SummaryKey> {
        var keys = Set<SummaryKey>(minimumCapacity: blobs.count + tags.count)
        for digest in blobs.keys { keys.insert(SummaryKey(digest)) }
        for tagKey in tags.keys { keys.insert(SummaryKey(tagKey: tagKey)) }
        return keys
    }
}
