#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// An open, read-only descriptor of an ingest's `data` file, which
/// containerd may still be writing.
///
/// The descriptor, not the path, is what is read: when containerd commits
/// the blob it renames `data` into `blobs/sha256/`, and the descriptor keeps
/// reading the same bytes; when the ingest is aborted (`Content.Abort`
/// removes the ingest directory) or collected, the file is unlinked, which
/// `fstat` shows as a link count of 0.
///
/// The descriptor is closed when the last reference goes away.
public final class IngestFile: Sendable {
    /// What `fstat` says of the file now.
    public struct State: Hashable, Sendable {
        /// Bytes written so far.
        public var size: Int64
        /// False once the file has been unlinked (aborted or collected);
        /// a commit renames it and it stays linked.
        public var linked: Bool

        public init(size: Int64, linked: Bool) {
            self.size = size
            self.linked = linked
        }
    }

    private let descriptor: Mutex<CInt?>

    /// Takes ownership of `descriptor`, an open regular file.
    public init(descriptor: CInt) {
        self.descriptor = Mutex(descriptor)
    }

    deinit {
        if let fd = descriptor.withLock({ $0.take() }) { systemClose(fd) }
    }

    /// Closes the descriptor now; later reads fail with `EBADF`.
    public func close() {
        if let fd = descriptor.withLock({ $0.take() }) { systemClose(fd) }
    }

    /// Up to `count` bytes from `offset` (fewer at the current end of the
    /// file, none when nothing has been written there yet).
    public func read(at offset: Int64, upTo count: Int) throws(IngestFileError) -> [UInt8] {
        precondition(offset >= 0 && count >= 0)
        guard count > 0 else { return [] }
        return try descriptor.withLock { fd throws(IngestFileError) -> [UInt8] in
            guard let fd else { throw .io(errno: EBADF) }
            var failure: Int32 = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                initialized = 0
                while initialized < count {
                    let n = pread(fd, buffer.baseAddress! + initialized, count - initialized, off_t(offset) + off_t(initialized))
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return
                    }
                    if n == 0 { return }
                    initialized += n
                }
            }
            if failure != 0 { throw .io(errno: failure) }
            return bytes
        }
    }

    /// The file's size and whether it is still linked.
    public func state() throws(IngestFileError) -> State {
        try descriptor.withLock { fd throws(IngestFileError) -> State in
            guard let fd else { throw .io(errno: EBADF) }
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw .io(errno: errno) }
            return State(size: Int64(info.st_size), linked: info.st_nlink > 0)
        }
    }
}

/// `close(2)`, named so that it does not resolve to `IngestFile.close`.
private func systemClose(_ fd: CInt) { _ = close(fd) }

/// Why an ingest file could not be opened or read.
public enum IngestFileError: Error, Hashable, Sendable, CustomStringConvertible {
    case io(errno: Int32)

    public var description: String {
        switch self {
        case .io(let code): String(cString: strerror(code))
        }
    }
}
