#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX operations the client configuration writers need
/// (`hosts.toml` files, the containers/image drop-in), with errors that name
/// the path. Writes go to a temporary file in the same directory, are
/// fsynced, then renamed over the target, and the directory is fsynced: a
/// reader (containerd, Podman) sees the old file or the new one, never a mix,
/// and a power cut leaves one of the two.
enum ConfigFileSystem {
    enum Kind: Equatable { case missing, directory, regularFile, symbolicLink, other }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// What is at `path`; `followLinks` decides whether a symbolic link is
    /// reported as such or as what it points to.
    static func kind(_ path: String, followLinks: Bool) throws(ClientConfigError) -> Kind {
        var info = stat()
        let result = followLinks ? stat(path, &info) : lstat(path, &info)
        guard result == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return .missing }
            throw .io(operation: "cannot inspect", path: path, errno: code)
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .regularFile
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    /// Configuration files larger than this are refused rather than read
    /// (a hosts.toml or registries.conf is a few hundred bytes).
    static let maximumFileSize = 1 << 20

    /// The file's bytes, or nil if there is no file. Fails on files larger
    /// than `maximumFileSize`.
    static func read(_ path: String) throws(ClientConfigError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            throw .io(operation: "cannot read", path: path, errno: code)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(operation: "cannot read", path: path, errno: errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maximumFileSize { throw .io(operation: "refusing to read (over 1 MiB)", path: path, errno: EFBIG) }
        }
    }

    /// Replaces (or creates) `path` with `bytes` atomically.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(ClientConfigError) {
        let temporary = temporaryName(for: path)
        try writeNew(bytes, to: temporary, mode: mode)
        try moveIntoPlace(temporary, path)
    }

    /// Renames a finished temporary file over `path`; removes it if that fails.
    private static func moveIntoPlace(_ temporary: String, _ path: String) throws(ClientConfigError) {
        do throws(ClientConfigError) {
            try rename(temporary, to: path)
        } catch {
            _ = unlink(temporary)
            throw error
        }
    }

    /// Makes `backup` an exact copy of `original` (same inode where hard
    /// links work, so bytes, mode, owner and times are all kept), replacing
    /// any older backup atomically.
    static func preserve(_ original: String, as backup: String) throws(ClientConfigError) {
        let temporary = temporaryName(for: backup)
        if link(original, temporary) != 0 {
            let code = errno
            guard [EPERM, EXDEV, EMLINK, EOPNOTSUPP, ENOSYS].contains(code) else {
                throw .io(operation: "cannot back up", path: original, errno: code)
            }
            // No hard links here: copy the bytes and the mode instead.
            guard let bytes = try read(original) else { throw .io(operation: "cannot back up", path: original, errno: ENOENT) }
            var info = stat()
            let mode = stat(original, &info) == 0 ? info.st_mode & 0o7777 : 0o644
            try writeNew(bytes, to: temporary, mode: mode)
        }
        try moveIntoPlace(temporary, backup)
    }

    static func rename(_ source: String, to destination: String) throws(ClientConfigError) {
        guard posixRename(source, destination) == 0 else {
            throw .io(operation: "cannot rename \(source) to", path: destination, errno: errno)
        }
        syncDirectory(containing: destination)
    }

    /// Removes a file; a missing file is not an error.
    static func remove(_ path: String) throws(ClientConfigError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw .io(operation: "cannot remove", path: path, errno: errno)
        }
        syncDirectory(containing: path)
    }

    /// Removes `path` if it is an empty directory; reports whether it did.
    static func removeDirectoryIfEmpty(_ path: String) -> Bool {
        guard rmdir(path) == 0 else { return false }
        syncDirectory(containing: path)
        return true
    }

    static func makeDirectory(_ path: String) throws(ClientConfigError) {
        guard mkdir(path, 0o755) == 0 else { throw .io(operation: "cannot create directory", path: path, errno: errno) }
        // mkdir honours the umask; clients only need to read, but keep the usual mode.
        _ = chmod(path, 0o755)
        syncDirectory(containing: path)
    }

    /// Fails with a clear error unless files can be created in `directory`.
    static func checkWritable(_ directory: String) throws(ClientConfigError) {
        guard access(directory, W_OK | X_OK) == 0 else { throw .notWritable(directory, errno: errno) }
    }

    /// Names in `directory`, without `.` and `..`.
    static func list(_ directory: String) throws(ClientConfigError) -> [String] {
        guard let handle = opendir(directory) else {
            throw .io(operation: "cannot list", path: directory, errno: errno)
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Temporary files start with this, so that cleanup can recognise
    /// leftovers of an interrupted write.
    static let temporaryPrefix = ".gossip-mirror-"

    /// Removes leftovers of a write interrupted by a crash (`.gossip-mirror-*.tmp`).
    static func removeTemporaryFiles(in directory: String) {
        guard let names = try? list(directory) else { return }
        for name in names where name.hasPrefix(temporaryPrefix) && name.hasSuffix(".tmp") {
            try? remove(join(directory, name))
        }
    }

    private static func temporaryName(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return join(directory, "\(temporaryPrefix)\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
    }

    private static func writeNew(_ bytes: [UInt8], to path: String, mode: mode_t) throws(ClientConfigError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw .io(operation: "cannot create", path: path, errno: errno) }
        var failure: Int32?
        if fchmod(fd, mode) != 0 { failure = errno }
        var offset = 0
        while failure == nil, offset < bytes.count {
            let count = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                failure = errno
            } else {
                offset += count
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = errno }
        if close(fd) != 0, failure == nil { failure = errno }
        if let failure {
            _ = unlink(path)
            throw .io(operation: "cannot write", path: path, errno: failure)
        }
    }

    private static func syncDirectory(containing path: String) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

// `read`, `write` and `rename` are shadowed inside `ConfigFileSystem` by its own members.
@inline(__always) private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
@inline(__always) private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
@inline(__always) private func posixRename(_ source: String, _ destination: String) -> Int32 {
    rename(source, destination)
}
