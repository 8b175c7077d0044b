/// The bytes of a blob that containerd is still writing, read from its
/// ingest file as they are written, up to the size the writer declared.
///
/// containerd 1.6 writes an ingest sequentially, in steps of at least 1 MiB
/// (`content.Copy` fills a 1 MiB buffer with `io.ReadAtLeast` before each
/// write), and the kernel makes bytes readable as soon as the file's size
/// covers them. The follower therefore reads to the current end, and when
/// nothing new is there polls the file's size every `pollInterval`: one
/// `fstat` per poll is cheaper than a file-change notification per follower,
/// and the latency it adds is small against a 1 MiB step.
///
/// It ends with an error, instead of waiting forever, when:
/// - nothing new was written for `stallTimeout` (`.stalled`): the fetch
///   behind the ingest died or hangs;
/// - the file was unlinked before reaching `total` (`.vanished`): the
///   ingest was aborted or collected (a commit renames the file instead);
/// - the file became shorter than what was read (`.restarted`): the writer
///   truncated it to start over.
///
/// Bytes are not verified here: the registry wraps this in its digest check,
/// which holds back the last chunk until the whole blob matches.
public struct IngestFollower: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    public struct Settings: Hashable, Sendable {
        /// How long the file may go without growing before following fails.
        public var stallTimeout: Duration
        /// How often the size is checked while nothing new is there.
        public var pollInterval: Duration
        /// The largest chunk read at once.
        public var chunkSize: Int

        public init(stallTimeout: Duration = .seconds(30), pollInterval: Duration = .milliseconds(20), chunkSize: Int = 1 << 20) {
            precondition(chunkSize > 0)
            self.stallTimeout = stallTimeout
            self.pollInterval = pollInterval
            self.chunkSize = chunkSize
        }
    }

    let file: IngestFile
    let total: Int64
    let offset: Int64
    let settings: Settings

    /// Follows `file` from `offset` until `total` bytes have been read.
    public init(file: IngestFile, total: Int64, from offset: Int64 = 0, settings: Settings = Settings()) {
        precondition(total >= 0 && offset >= 0 && offset <= total)
        self.file = file
        self.total = total
        self.offset = offset
        self.settings = settings
    }

    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let file: IngestFile
        let total: Int64
        let settings: Settings
        var position: Int64
        var lastGrowth: ContinuousClock.Instant?

        public mutating func next() async throws -> [UInt8]? {
            guard position < total else { return nil }
            let clock = ContinuousClock()
            while true {
                try Task.checkCancellation()
                let want = Int(Swift.min(Int64(settings.chunkSize), total - position))
                let bytes: [UInt8]
                let state: IngestFile.State
                do throws(IngestFileError) {
                    bytes = try file.read(at: position, upTo: want)
                    if !bytes.isEmpty {
                        position += Int64(bytes.count)
                        lastGrowth = clock.now
                        return bytes
                    }
                    state = try file.state()
                } catch {
                    throw IngestFollowError.unreadable(error)
                }
                if state.size < position { throw IngestFollowError.restarted(at: position, size: state.size) }
                // Bytes written between the read and fstat are read next time
                // round; an unlinked file gets no more.
                if state.size == position, !state.linked { throw IngestFollowError.vanished(at: position) }
                let since = lastGrowth ?? clock.now
                if lastGrowth == nil { lastGrowth = since }
                if state.size == position, clock.now - since >= settings.stallTimeout {
                    throw IngestFollowError.stalled(at: position, for: settings.stallTimeout)
                }
                if state.size == position { try await Task.sleep(for: settings.pollInterval) }
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(file: file, total: total, settings: settings, position: offset)
    }
}

/// Why following an ingest ended before its total (see `IngestFollower`).
public enum IngestFollowError: Error, Hashable, Sendable, CustomStringConvertible {
    case stalled(at: Int64, for: Duration)
    case vanished(at: Int64)
    case restarted(at: Int64, size: Int64)
    case unreadable(IngestFileError)

    public var description: String {
        switch self {
        case .stalled(let at, let duration): "the ingest did not grow past \(at) bytes for \(duration)"
        case .vanished(let at): "the ingest was removed (aborted or collected) at \(at) bytes"
        case .restarted(let at, let size): "the ingest shrank to \(size) bytes after \(at) were read (the writer started over)"
        case .unreadable(let error): "the ingest could not be read: \(error)"
        }
    }
}
