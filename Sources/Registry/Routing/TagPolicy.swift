import Catalog

/// Whether the mirror answers a tag at all — from local content or through
/// peers (a digest always may be answered).
///
/// Tags move upstream; the mirror's answer is only as fresh as the last pull
/// of whoever holds the image, this node included. Resolving tags is on by
/// default because it is what makes pulls work while the upstream is down,
/// but `latest` is excluded by default (it moves the most, and Kubernetes
/// pulls it with `Always`), and the registry filter and the
/// mirrored-registries allowlist apply. A tag the policy excludes gets a 404,
/// so containerd asks the upstream which digest is current and then fetches
/// that digest through the mirror.
public struct TagPolicy: Sendable {
    public var resolveThroughPeers: Bool
    public var includeLatest: Bool
    public var filter: RegistryFilter

    public init(resolveThroughPeers: Bool = true, includeLatest: Bool = false, filter: RegistryFilter = RegistryFilter()) {
        self.resolveThroughPeers = resolveThroughPeers
        self.includeLatest = includeLatest
        self.filter = filter
    }

    /// Whether `reference` may be answered by this mirror.
    public func allowsTag(_ reference: ImageReference) -> Bool {
        guard filter.admits(reference) else { return false }
        guard reference.digest == nil, let tag = reference.tag else { return true }
        return resolveThroughPeers && (includeLatest || tag != "latest")
    }
}
