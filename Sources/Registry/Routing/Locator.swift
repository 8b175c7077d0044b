import Catalog

/// Where content is: this node, and which members probably hold it.
public struct LocateReport: Codable, Sendable, Hashable {
    public var reference: String
    /// The digest, when the reference is one or this node can resolve its tag.
    public var digest: String?
    public var local: Bool
    /// Members whose summary matches the digest (or, without one, the tag).
    public var holders: [String]
    /// Entries of this node's store that match the reference but are not
    /// shared, and why (nil from nodes that do not report them).
    public var skipped: [SkippedImage]? = nil
}

/// Answers `gossip-mirror locate`.
public struct Locator: Sendable {
    let catalog: LocalCatalog
    let peers: PeerDirectory

    public init(catalog: LocalCatalog, peers: PeerDirectory) {
        self.catalog = catalog
        self.peers = peers
    }

    public enum Failure: Error, CustomStringConvertible {
        case invalidReference(String)
        public var description: String {
            switch self {
            case .invalidReference(let why): "not a digest or an image reference: \(why)"
            }
        }
    }

    /// Locates a digest (`sha256:…`) or an image reference (`registry/repo:tag`).
    public func locate(_ text: String) async throws(Failure) -> LocateReport {
        var report = try await find(text)
        let skipped = await catalog.skippedImages()
        let tag = (try? ImageReference(text))?.tag
        report.skipped = skipped.filter { entry in
            entry.digest == report.digest || entry.digest == text || (tag != nil && (entry.name == tag || entry.name == text))
        }
        return report
    }

    private func find(_ text: String) async throws(Failure) -> LocateReport {
        if let digest = Digest(text) {
            return LocateReport(
                reference: text, digest: digest.description, local: await catalog.lookup(digest) != nil,
                holders: peers.holders(of: SummaryKey(digest)))
        }
        let reference: ImageReference
        do { reference = try ImageReference(text) } catch { throw .invalidReference("\(error)") }
        if let digest = reference.digest {
            return LocateReport(
                reference: reference.description, digest: digest.description, local: await catalog.lookup(digest) != nil,
                holders: peers.holders(of: SummaryKey(digest)))
        }
        let local = await catalog.resolve(reference)
        let tagHolders = Set(peers.holders(of: SummaryKey(tagKey: reference.tagKey!)))
        let digestHolders = local.map { Set(peers.holders(of: SummaryKey($0.digest))) } ?? tagHolders
        return LocateReport(
            reference: reference.description, digest: local?.digest.description, local: local != nil,
            holders: local == nil ? tagHolders.sorted() : digestHolders.sorted())
    }
}
