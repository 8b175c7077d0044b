/// An image a content store names but cannot share, and why: an OCI layout
/// entry named by a bare tag with no `--oci-layout-repository`, say. Shown by
/// the status page and `locate`, so that an air-gapped site that preloads
/// images does not silently share nothing.
public struct SkippedImage: Codable, Hashable, Sendable {
    /// How the store names the entry (`1.0` for a bare tag), or `(unnamed)`.
    public var name: String
    /// The entry's digest, as written (it may be the reason it was skipped).
    public var digest: String
    public var reason: String

    public init(name: String, digest: String, reason: String) {
        self.name = name
        self.digest = digest
        self.reason = reason
    }
}

extension ContentStore {
    /// None, for stores that name every image they list (containerd's).
    public func skippedImages() async -> [SkippedImage] { [] }
}
