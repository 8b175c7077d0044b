import Catalog

/// Whether a tag may be resolved through peers (a digest always may).
///
/// Tags move upstream; a peer's answer is only as fresh as that peer's last
/// pull. Resolution through peers is on by default because it is what makes
/// pulls work while the upstream is down, but `latest` is excluded by
/// default (it moves the most, and Kubernetes pulls it with `Always`), and
/// the registry filter and the mirrored-registries allowlist apply.
public struct TagPolicy: Sendable {
    public var resolveThroughPeers: Bool
    public var includeLatest: Bool
    public var filter: RegistryFilter

    public init(resolveThroughPeers: Bool = true, includeLatest: Bool = false, filter: RegistryFilter = RegistryFilter()) {
        self.resolveThroughPeers = resolveThroughPeers
        self.includeLatest = includeLatest
        self.filter = filter
    }

    /// Whether `reference` may be answered with content fetched from peers.
    public func allowsPeers(_ reference: ImageReference) -> Bool {
        guard filter.admits(reference) else { return false }
        guard reference.digest == nil, let tag = reference.tag else { return true }
        return resolveThroughPeers && (includeLatest || tag != "latest")
    }
}
