#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens files beneath a trusted root directory without following any
/// symbolic link below it (issue 9, finding 6).
///
/// The root itself comes from the operator's configuration and is opened by
/// path; from there each component is opened with `openat(2)` and
/// `O_NOFOLLOW` relative to the previous directory's descriptor, which is
/// what `openat2(2)` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS` does in one
/// call (Swift cannot call the variadic `syscall(2)` to reach openat2, and
/// the walk needs no kernel newer than 2.6.39). A link swapped in at any
/// moment is refused (`ELOOP`) rather than followed: there is no window
/// between a check and the open, because the descriptor that is checked
/// with `fstat` is the one that is served.
///
/// The file is opened with `O_NONBLOCK` so that a FIFO swapped in for a blob
/// cannot block the opening thread (waiting for a writer); `fstat` then
/// refuses anything but a regular file. (`O_NONBLOCK` has no effect on
/// reads of regular files.)
public struct BeneathRoot: Sendable, Hashable {
    /// The root directory's path (trusted; may itself contain links).
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Opens `components` (each one path component, no `/`, no `..`) as a
    /// regular file, of `expectedSize` bytes when given.
    public func open(_ components: [String], expectedSize: Int64? = nil) throws(BeneathError) -> BlobFile {
        precondition(!components.isEmpty && components.allSatisfy { !$0.isEmpty && !$0.contains("/") && $0 != ".." && $0 != "." })
        var directory = Self.system(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw Self.error(errno) }
        for component in components.dropLast() {
            let next = Self.systemAt(directory, component, Self.searchFlags | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let code = errno
            close(directory)
            guard next >= 0 else { throw Self.error(code) }
            directory = next
        }
        let fd = Self.systemAt(directory, components.last!, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        let code = errno
        close(directory)
        guard fd >= 0 else { throw Self.error(code) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw .io(errno: code)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .notARegularFile
        }
        let size = Int64(info.st_size)
        if let expectedSize, expectedSize != size {
            close(fd)
            throw .sizeMismatch(expected: expectedSize, actual: size)
        }
        return BlobFile(descriptor: fd, size: size)
    }

    /// The size of the regular file at `components`, or nil when there is none
    /// (or only a link, or something else).
    public func regularFileSize(_ components: [String]) -> Int64? {
        try? open(components).size
    }

    /// Directories on the way are opened for reading (`O_PATH` would need
    /// only search permission, but Swift's Glibc does not export it).
    private static let searchFlags = O_RDONLY

    private static func error(_ code: Int32) -> BeneathError {
        switch code {
        case ENOENT: .missing
        // ELOOP: a link where O_NOFOLLOW forbids one (a link on the way fails
        // O_DIRECTORY | O_NOFOLLOW with ELOOP too). ENOTDIR: a file or other
        // non-directory on the way.
        case ELOOP: .symbolicLink
        case ENOTDIR: .notADirectoryOnTheWay
        default: .io(errno: code)
        }
    }

    private static func system(_ path: String, _ flags: Int32) -> CInt { systemOpen(path, flags) }
    private static func systemAt(_ directory: CInt, _ name: String, _ flags: Int32) -> CInt { openat(directory, name, flags) }
}

/// `open(2)`, named so that it does not resolve to `BeneathRoot.open`.
private func systemOpen(_ path: String, _ flags: Int32) -> CInt { open(path, flags) }
