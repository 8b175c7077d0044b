/// Fetches manifests and blobs from peer mirrors over libcurl.
///
/// All transfers of one fetcher run on its own OS thread (a libcurl multi
/// handle; see `CurlMultiThread`), never on Swift's cooperative pool. The
/// multi handle keeps idle connections open, so repeated requests to the same
/// peer reuse one keep-alive connection instead of reconnecting.
///
/// Sendable without qualification: its stored properties are immutable and
/// Sendable (the thread object documents its own confinement argument).
///
/// Keep the fetcher alive while responses stream: deinitialising it shuts the
/// thread down and cancels transfers still in flight.
public final class PeerFetcher: Sendable {
    public struct Configuration: Sendable {
        /// Bytes per chunk handed to the consumer at most (and libcurl's
        /// receive buffer size); at least 16 KiB.
        public var chunkSize: Int
        /// Chunks that may wait for a slow consumer before the transfer is
        /// paused; the per-transfer memory bound is `chunkSize * maxBufferedChunks`.
        public var maxBufferedChunks: Int
        /// Idle keep-alive connections kept open across all peers.
        public var maxCachedConnections: Int

        public init(chunkSize: Int = 64 * 1024, maxBufferedChunks: Int = 8, maxCachedConnections: Int = 64) {
            precondition(chunkSize >= 16 * 1024 && maxBufferedChunks >= 1 && maxCachedConnections >= 1)
            self.chunkSize = chunkSize
            self.maxBufferedChunks = maxBufferedChunks
            self.maxCachedConnections = maxCachedConnections
        }
    }

    /// Fetcher-wide counters (for `/metrics` and tests).
    public struct Statistics: Sendable, Hashable {
        /// Body bytes buffered across all transfers now.
        public var bufferedBytes: Int
        public var peakBufferedBytes: Int
        public var transfersStarted: Int
        public var transfersActive: Int
        /// TCP connections opened; lower than `transfersStarted` when
        /// keep-alive connections are reused.
        public var connectionsOpened: Int
    }

    public let configuration: Configuration
    private let thread: CurlMultiThread
    private let counters = PeerFetcherCounters()

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        self.thread = CurlMultiThread(maxCachedConnections: configuration.maxCachedConnections, counters: counters)
    }

    deinit {
        thread.shutdown()
    }

    public var statistics: Statistics { counters.snapshot }

    /// Sends `request` and returns as soon as the response head has arrived;
    /// the body streams through `PeerResponse.body` at the consumer's pace.
    ///
    /// Any status is returned as a response (a 404 from a peer is an answer,
    /// not a transport failure); the helpers that need success throw
    /// `.httpStatus`. Throws `PeerFetchError`: connect failures, timeouts and
    /// broken transfers before the head; `.cancelled` if the task is cancelled.
    public func fetch(_ request: PeerRequest) async throws -> PeerResponse {
        try request.validate()
        if Task.isCancelled { throw PeerFetchError.cancelled }
        let limits = BodyBufferLimits(
            chunkSize: configuration.chunkSize,
            maxBufferedBytes: configuration.chunkSize * configuration.maxBufferedChunks)
        let channel = TransferChannel(limits: limits, control: thread, counters: counters)
        // Created before the transfer starts, so that however this call ends
        // (head failure, cancellation) the transfer is aborted if nobody holds
        // the body.
        let lifetime = PeerBody.Lifetime(channel)
        thread.start(request, channel)
        let head = try await channel.head()
        return PeerResponse(head: head, body: PeerBody(lifetime))
    }
}
