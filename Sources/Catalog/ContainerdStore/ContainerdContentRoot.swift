import Foundation

/// containerd's committed blobs on disk: `<content dir>/blobs/sha256/<hex>`, where
/// the content dir is `<containerd root>/io.containerd.content.v1.content`.
///
/// Blobs are committed by an atomic rename out of `ingest/`, so a file here is
/// always complete; but it may belong to another namespace (the metadata
/// database is the truth) and garbage collection may unlink it at any time.
struct ContainerdContentRoot: Sendable, Hashable {
    /// The `blobs/sha256` directory.
    var blobsDirectory: String { ([base.path] + components).joined(separator: "/") }
    /// The configured directory (trusted: the operator's), and the
    /// components from it to `blobs/sha256`, opened without following links.
    let base: BeneathRoot
    let components: [String]

    init(base: String, components: [String]) {
        self.base = BeneathRoot(path: base)
        self.components = components
    }

    /// The name of containerd's content plugin directory under its root.
    static let pluginDirectory = "io.containerd.content.v1.content"

    /// Resolves the blobs directory from a configured root (containerd's root or
    /// the content plugin's directory), or from the default root when nil.
    ///
    /// containerd creates `blobs/sha256` only when it commits its first blob, so
    /// the blobs directory need not exist yet: the root must. Returns nil when the
    /// root does not exist or this process cannot search it (the root is mode
    /// 0700: only root reads it).
    static func resolve(configured: String?) -> ContainerdContentRoot? {
        let root = configured ?? ContainerdConfiguration.defaultRoot
        guard isSearchableDirectory(root) else { return nil }
        let fileManager = FileManager.default
        let trimmed = root.hasSuffix("/") ? String(root.dropLast()) : root
        if trimmed.hasSuffix("/" + pluginDirectory) || fileManager.fileExists(atPath: trimmed + "/blobs/sha256") {
            return ContainerdContentRoot(base: trimmed, components: ["blobs", "sha256"])
        }
        let plugin = trimmed + "/" + pluginDirectory
        if fileManager.fileExists(atPath: plugin), !isSearchableDirectory(plugin) { return nil }
        return ContainerdContentRoot(base: trimmed, components: [pluginDirectory, "blobs", "sha256"])
    }

    private static func isSearchableDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }

    /// Where the blob would be. `Digest` admits only 64 lowercase hex characters,
    /// so this cannot leave the directory.
    func path(of digest: Digest) -> String {
        blobsDirectory + "/" + digest.hex
    }

    /// The blob, open, if a regular file of `size` bytes is there now,
    /// reached without following any link below the configured root (see
    /// `BeneathRoot`).
    func openFile(_ digest: Digest, size: Int64) -> BlobFile? {
        try? base.open(components + [digest.hex], expectedSize: size)
    }
}
