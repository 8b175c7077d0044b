#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// An open, read-only descriptor of a committed blob, checked with `fstat`
/// to be a regular file (of the expected size, when one was given): what
/// the registry serves, with sendfile(2), is exactly what was checked.
///
/// The descriptor is owned: it is closed when the last reference goes away,
/// unless `takeDescriptor()` handed it on (to the HTTP server, which closes
/// it once the body is written). An open descriptor keeps reading the same
/// bytes even if the file is unlinked meanwhile (containerd's GC).
public final class BlobFile: Sendable {
    public let size: Int64
    private let descriptor: Mutex<CInt?>

    init(descriptor: CInt, size: Int64) {
        self.descriptor = Mutex(descriptor)
        self.size = size
    }

    deinit {
        if let fd = descriptor.withLock({ $0.take() }) { close(fd) }
    }

    /// The descriptor, now the caller's to close; nil if already taken.
    public func takeDescriptor() -> CInt? {
        descriptor.withLock { $0.take() }
    }

    /// Reads the whole file (at most `limit` bytes) from offset 0 with pread(2).
    public func readAll(limit: Int) throws(BeneathError) -> [UInt8] {
        guard size <= Int64(limit) else { throw .tooLarge(size: size, limit: limit) }
        return try descriptor.withLock { fd throws(BeneathError) -> [UInt8] in
            guard let fd else { throw .io(errno: EBADF) }
            // One byte past the size, to notice a file that grew.
            var bytes = [UInt8](repeating: 0, count: Int(size) + 1)
            var filled = 0
            while filled < bytes.count {
                let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, $0.count - filled, off_t(filled)) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw .io(errno: errno)
                }
                if count == 0 { break }
                filled += count
            }
            guard filled == Int(size) else { throw .sizeMismatch(expected: size, actual: Int64(filled)) }
            bytes.removeLast()
            return bytes
        }
    }
}

/// Why a file beneath a store's root could not be opened.
public enum BeneathError: Error, Hashable, Sendable, CustomStringConvertible {
    case missing
    /// A symbolic link at the end: never followed.
    case symbolicLink
    /// A symbolic link, or anything else that is not a directory, where a
    /// directory should be on the way.
    case notADirectoryOnTheWay
    /// A directory, FIFO, device or socket where a regular file should be.
    case notARegularFile
    case sizeMismatch(expected: Int64, actual: Int64)
    case tooLarge(size: Int64, limit: Int)
    case io(errno: Int32)

    public var description: String {
        switch self {
        case .missing: "no such file"
        case .symbolicLink: "a symbolic link (never followed beneath a store's root)"
        case .notADirectoryOnTheWay: "a symbolic link or a file where a directory should be (links are never followed beneath a store's root)"
        case .notARegularFile: "not a regular file"
        case .sizeMismatch(let expected, let actual): "\(actual) bytes where \(expected) were expected"
        case .tooLarge(let size, let limit): "\(size) bytes, more than \(limit)"
        case .io(let code): String(cString: strerror(code))
        }
    }
}
