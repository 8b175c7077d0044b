/// A blob this node's store is still writing, open for following.
public struct Ingest: Sendable {
    /// The blob being written.
    public var digest: Digest
    /// The writer's ref (e.g. `layer-sha256:<hex>`).
    public var ref: String
    /// The size the writer declared: the blob is complete at this many bytes.
    public var total: Int64
    /// Bytes written when the ingest was found.
    public var offset: Int64
    public var file: IngestFile

    public init(digest: Digest, ref: String, total: Int64, offset: Int64, file: IngestFile) {
        self.digest = digest
        self.ref = ref
        self.total = total
        self.offset = offset
        self.file = file
    }
}

/// A store that can show the blobs it is fetching (containerd's ingests), so
/// that the registry can serve a blob before it is committed.
public protocol IngestSource: Sendable {
    /// The ingest of `digest` in progress in this node's namespace, opened;
    /// nil when there is none.
    func ingest(of digest: Digest) async throws -> Ingest?
}
