/// The names containerd gives a blob it is writing (an ingest), parsed
/// strictly.
///
/// Two layers name an ingest (containerd 1.6, `metadata/content.go` and
/// `content/local/store.go`):
/// - the writer's ref, what `content.ListStatuses` reports: for a blob a pull
///   fetches, `remotes.MakeRefKey` makes it `<kind>-<digest>`, kind one of
///   `layer`, `config`, `manifest`, `index` or `unknown` (e.g.
///   `layer-sha256:<hex>`); a descriptor annotated with a ref name gives
///   `<kind>-<name>@<digest>`;
/// - the local store's ref, written to `ingest/<sha256 of it>/ref`:
///   `<namespace>/<sequence>/<writer's ref>`, so the file names the namespace
///   the ingest belongs to.
public struct IngestReference: Hashable, Sendable {
    /// The containerd namespace (only from a local store ref).
    public var namespace: String?
    /// The writer's ref, e.g. `layer-sha256:<hex>`.
    public var ref: String
    /// The blob being written, when the ref names one the way a pull does.
    public var digest: Digest?

    /// Kinds `remotes.MakeRefKey` prefixes.
    static let kinds: Set<Substring> = ["layer", "config", "manifest", "index", "unknown"]
    /// Longer refs are not refs a pull makes (a digest is 71 bytes; a ref
    /// name annotation can add an image name).
    public static let maximumLength = 1024

    /// A writer's ref as `ListStatuses` reports it.
    public init?(writerRef: some StringProtocol) {
        let text = String(writerRef)
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength else { return nil }
        self.namespace = nil
        self.ref = text
        self.digest = Self.digest(inWriterRef: text)
    }

    /// The content of an ingest's `ref` file: `<namespace>/<sequence>/<writer's ref>`.
    /// The writer's ref may itself contain `/` (an annotated image name).
    public init?(localRef: some StringProtocol) {
        let text = String(localRef)
        guard text.utf8.count <= Self.maximumLength + 100 else { return nil }
        let parts = text.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, ContainerdConfiguration.isValidNamespace(String(parts[0])),
            !parts[1].isEmpty, parts[1].count <= 20, parts[1].utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            var parsed = IngestReference(writerRef: parts[2])
        else { return nil }
        parsed.namespace = String(parts[0])
        self = parsed
    }

    /// The digest at the end of `<kind>-<digest>` or `<kind>-<name>@<digest>`.
    static func digest(inWriterRef text: String) -> Digest? {
        guard let dash = text.firstIndex(of: "-"), kinds.contains(text[..<dash]) else { return nil }
        let key = text[text.index(after: dash)...]
        if let at = key.lastIndex(of: "@") {
            return Digest(key[key.index(after: at)...])
        }
        return Digest(key)
    }
}
