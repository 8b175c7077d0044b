#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only access to the files of one directory tree that never leaves it.
///
/// Every path is canonicalised with `realpath(3)` and must still lie under the
/// canonical root, so a symbolic link (or `..`) that points outside the tree
/// reads as absent; links that stay inside are followed. Files are then opened
/// by their canonical path with `O_NOFOLLOW`, so a link swapped in after the
/// check is refused rather than followed. Nothing here opens for writing.
struct ConfinedDirectory: Sendable, Hashable {
    /// The canonical root, without a trailing slash (except for "/" itself).
    let root: String

    /// Fails if `path` does not resolve to a directory.
    init(path: String) throws(OCILayoutError) {
        guard let canonical = Self.realPath(path) else { throw .notADirectory(path) }
        var info = stat()
        guard stat(canonical, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { throw .notADirectory(path) }
        self.root = canonical
    }

    /// Where a relative path leads.
    enum Resolution: Equatable {
        /// A canonical path inside the root.
        case inside(String)
        case missing
        /// It exists, but only outside the root.
        case outside
    }

    func resolve(_ relativePath: String) -> Resolution {
        guard let canonical = Self.realPath(root + "/" + relativePath) else { return .missing }
        let prefix = root == "/" ? "/" : root + "/"
        return canonical.hasPrefix(prefix) ? .inside(canonical) : .outside
    }

    /// The canonical path and size of a regular file inside the root.
    func regularFile(_ relativePath: String) throws(OCILayoutError) -> (path: String, size: Int64) {
        let path: String
        switch resolve(relativePath) {
        case .inside(let canonical): path = canonical
        case .missing: throw .fileNotFound(relativePath)
        case .outside: throw .escapesLayout(relativePath)
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw .fileNotFound(relativePath) }
        return (path, Int64(info.st_size))
    }

    /// Reads a whole regular file of at most `limit` bytes.
    func read(_ relativePath: String, limit: Int) throws(OCILayoutError) -> [UInt8] {
        let (path, _) = try regularFile(relativePath)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { throw .io(relativePath, errno: errno) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw .fileNotFound(relativePath) }
        guard info.st_size <= limit else { throw .tooLarge(relativePath, size: Int64(info.st_size), limit: limit) }

        // Read up to one byte past the limit to notice a file that grew.
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                systemRead(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(relativePath, errno: errno)
            }
            if count == 0 { break }
            filled += count
        }
        guard filled <= limit else { throw .tooLarge(relativePath, size: Int64(filled), limit: limit) }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }

    /// What identifies one version of a file: replaced (new inode), rewritten
    /// (size, mtime, ctime) or touched, the fingerprint changes. Nanosecond
    /// times catch rewrites within the same second.
    struct Fingerprint: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Timestamp
        var changed: Timestamp

        struct Timestamp: Hashable, Sendable {
            var seconds: Int64
            var nanoseconds: Int64
        }
    }

    /// The fingerprint of a file inside the root, or nil if there is none.
    func fingerprint(_ relativePath: String) -> Fingerprint? {
        guard case .inside(let path) = resolve(relativePath) else { return nil }
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        let modified = info.st_mtimespec, changed = info.st_ctimespec
        #else
        let modified = info.st_mtim, changed = info.st_ctim
        #endif
        return Fingerprint(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: .init(seconds: Int64(modified.tv_sec), nanoseconds: Int64(modified.tv_nsec)),
            changed: .init(seconds: Int64(changed.tv_sec), nanoseconds: Int64(changed.tv_nsec)))
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// `read(2)`, named so that it does not resolve to `ConfinedDirectory.read`.
@inline(__always)
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
