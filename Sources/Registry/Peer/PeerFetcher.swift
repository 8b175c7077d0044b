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
    /// How the fetcher buffers bodies. Defaults: chunks from 64 KiB to
    /// 1 MiB, two of them waiting at most, a 32 MiB budget shared by all
    /// running transfers (so up to 8 relays get 1 MiB chunks; see
    /// `BodyBufferPolicy`), 64 KiB libcurl receive buffers.
    public struct Configuration: Sendable {
        /// Smallest chunk handed to the consumer, whatever the load.
        public var minChunkSize: Int
        /// Largest chunk, for a transfer that has the budget to itself.
        public var maxChunkSize: Int
        /// Chunks that may wait for a slow consumer before the transfer is
        /// paused; a transfer's buffer holds at most `maxChunkSize * maxBufferedChunks`.
        public var maxBufferedChunks: Int
        /// Bytes the body buffers of all running transfers may hold together;
        /// each transfer's chunk size is its share (see `BodyBufferPolicy`).
        public var bufferBudget: Int
        /// libcurl's receive buffer per transfer (`CURLOPT_BUFFERSIZE`).
        public var receiveBufferSize: Int
        /// Idle keep-alive connections kept open across all peers.
        public var maxCachedConnections: Int

        public init(
            minChunkSize: Int = 64 << 10, maxChunkSize: Int = 1 << 20, maxBufferedChunks: Int = 2,
            bufferBudget: Int = 32 << 20, receiveBufferSize: Int = 64 << 10, maxCachedConnections: Int = 64
        ) {
            // Chunks of at least 16 KiB: no single libcurl delivery
            // (`CURL_MAX_WRITE_SIZE`) is larger, so one always fits.
            precondition(minChunkSize >= 16 << 10 && maxChunkSize >= minChunkSize)
            precondition(maxBufferedChunks >= 1 && bufferBudget >= 0 && maxCachedConnections >= 1)
            // libcurl's bounds for CURLOPT_BUFFERSIZE (CURL_MAX_READ_SIZE, 10 MB).
            precondition((1024...10 << 20).contains(receiveBufferSize))
            precondition(maxChunkSize <= 1 << 30)
            self.minChunkSize = minChunkSize
            self.maxChunkSize = maxChunkSize
            self.maxBufferedChunks = maxBufferedChunks
            self.bufferBudget = bufferBudget
            self.receiveBufferSize = receiveBufferSize
            self.maxCachedConnections = maxCachedConnections
        }

        /// Chunks of one size whatever the load (tests).
        public static func fixed(chunkSize: Int, maxBufferedChunks: Int) -> Configuration {
            Configuration(minChunkSize: chunkSize, maxChunkSize: chunkSize, maxBufferedChunks: maxBufferedChunks)
        }

        var policy: BodyBufferPolicy {
            BodyBufferPolicy(
                minChunkSize: minChunkSize, maxChunkSize: maxChunkSize, bufferedChunks: maxBufferedChunks,
                budget: bufferBudget)
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

    /// A pooled connection idle longer than this is not reused (libcurl's
    /// default is 118 s): below the registry's idle timeout
    /// (`HTTPServerLimits.idleTimeout`, 60 s), so a peer never closes a
    /// connection just as we send a request on it.
    public static let maximumConnectionAge: Duration = .seconds(30)

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
        let channel = TransferChannel(
            policy: configuration.policy, receiveBufferSize: configuration.receiveBufferSize,
            control: thread, counters: counters)
        // Created before the transfer starts, so that however this call ends
        // (head failure, cancellation) the transfer is aborted if nobody holds
        // the body.
        let lifetime = PeerBody.Lifetime(channel)
        thread.start(request, channel)
        let head = try await channel.head()
        return PeerResponse(head: head, body: PeerBody(lifetime))
    }
}
