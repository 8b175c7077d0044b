import Catalog

/// What this node fetches through peers and serves to them: the answer to
/// "private images reach every node" (issue 9, finding 5).
///
/// A node serves whatever its content store holds, and a blob request names
/// its content by digest whatever repository it names; so by default an
/// image pulled with credentials on one node reaches every node's containerd
/// without them (Spegel behaves the same). Two stricter modes:
///
/// - `public`: only registries listed as public go through peers, tags and
///   digests alike. Everything else misses (404) and containerd pulls it
///   upstream with its own credentials.
/// - `digests`: only requests by digest go through peers; tags are never
///   resolved through peers. containerd learns a digest by resolving the tag
///   at the upstream, with credentials, so a node only gets through peers
///   what its own credentials let it name. Knowing a digest is then the
///   capability (a digest is 256 bits, but one that has been shared, say in
///   a deployment manifest, is no secret).
///
/// The policy holds on both sides: a relay does not ask peers for what it
/// excludes, and a holder does not answer peers for it, so one node set
/// stricter than the rest still keeps its own content. Set it alike on every
/// node.
public struct PeerSharing: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case all
        case publicRegistries = "public"
        case digests
    }

    public var mode: Mode
    /// Normalised registry hosts whose content is public (mode `public`).
    public var publicRegistries: Set<String>

    public init(mode: Mode = .all, publicRegistries: Set<String> = []) {
        self.mode = mode
        self.publicRegistries = publicRegistries
    }

    /// Whether a request for `registry`, by digest or not, may go through peers.
    public func admits(registry: String, byDigest: Bool) -> Bool {
        switch mode {
        case .all: true
        case .publicRegistries: publicRegistries.contains(registry)
        case .digests: byDigest
        }
    }

    /// Whether a manifest request may go through peers.
    public func admits(manifest reference: ImageReference) -> Bool {
        admits(registry: reference.registry, byDigest: reference.digest != nil)
    }
}
