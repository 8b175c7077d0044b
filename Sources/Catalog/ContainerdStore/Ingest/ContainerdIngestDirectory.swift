#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// containerd's `ingest/` directory beside `blobs/`: one directory per
/// write in progress, named by the sha256 of the local store's ref, holding
/// `ref` (that ref, which names the namespace), `data` (the bytes so far),
/// `total`, `startedat` and `updatedat` (containerd 1.6,
/// `content/local/store.go`).
///
/// The directory name cannot be computed from the writer's ref alone (the
/// local ref has a sequence number from the metadata database in it), so
/// finding an ingest reads the `ref` file of each entry; a node has a
/// handful of ingests at a time. Files are opened through `BeneathRoot`:
/// no link below the configured root is followed, and only regular files
/// are read.
struct ContainerdIngestDirectory: Sendable, Hashable {
    /// The configured root and the components from it to `ingest`.
    let root: BeneathRoot
    let components: [String]

    /// At most this many entries are looked at (a node fetching thousands of
    /// blobs at once is not one this is for).
    static let maximumEntries = 4096
    /// A `ref` file is never longer than this.
    static let maximumRefFileSize = IngestReference.maximumLength + 100

    init(root: BeneathRoot, components: [String]) {
        self.root = root
        self.components = components
    }

    /// The ingest directory beside a content root's `blobs/sha256`.
    init?(contentRoot: ContainerdContentRoot) {
        guard contentRoot.components.suffix(2) == ["blobs", "sha256"] else { return nil }
        self.init(root: contentRoot.base, components: Array(contentRoot.components.dropLast(2)) + ["ingest"])
    }

    var path: String { ([root.path] + components).joined(separator: "/") }

    /// Opens the `data` file of the ingest whose `ref` file names `namespace`
    /// and `writerRef`; nil when there is none.
    func openData(namespace: String, writerRef: String) -> IngestFile? {
        for name in entries() {
            guard let file = try? root.open(components + [name, "ref"]),
                let bytes = try? file.readAll(limit: Self.maximumRefFileSize),
                let text = String(validating: bytes, as: UTF8.self),
                let reference = IngestReference(localRef: text),
                reference.namespace == namespace, reference.ref == writerRef
            else { continue }
            // The data file grows: no expected size.
            guard let data = try? root.open(components + [name, "data"]), let fd = data.takeDescriptor() else { return nil }
            return IngestFile(descriptor: fd)
        }
        return nil
    }

    /// Names of entries that look like containerd's (64 lowercase hex
    /// characters); what they are is checked when they are opened.
    private func entries() -> [String] {
        guard let stream = opendir(path) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while names.count < Self.maximumEntries, let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name.utf8.count == 64, name.utf8.allSatisfy(Self.isLowercaseHex) else { continue }
            names.append(name)
        }
        return names
    }

    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}
