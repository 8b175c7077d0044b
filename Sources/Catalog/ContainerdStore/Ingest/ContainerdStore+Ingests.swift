extension ContainerdStore: IngestSource {
    /// The blob `digest` as containerd is fetching it into this namespace.
    ///
    /// `Content.ListStatuses` names the namespace's ingests (the metadata
    /// database is the truth of what belongs to a namespace) with their
    /// declared total; the ingest directory on disk gives the bytes. Only an
    /// ingest that both name, with a total, is returned: one of another
    /// namespace is never served here. Nil without a readable content
    /// directory (ingests cannot be read through the API).
    public func ingest(of digest: Digest) async throws -> Ingest? {
        guard let contentRoot, let directory = ContainerdIngestDirectory(contentRoot: contentRoot) else { return nil }
        let statuses = try await connection.listStatuses()
        guard let status = statuses.first(where: { IngestReference(writerRef: $0.ref)?.digest == digest }),
            status.total > 0, status.offset >= 0, status.offset <= status.total
        else { return nil }
        guard let file = directory.openData(namespace: configuration.namespace, writerRef: status.ref) else { return nil }
        return Ingest(digest: digest, ref: status.ref, total: status.total, offset: status.offset, file: file)
    }
}
