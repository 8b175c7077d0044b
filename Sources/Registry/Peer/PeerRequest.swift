import NIOHTTP1

/// One HTTP request to a peer mirror.
///
/// The defaults suit the cluster network: a dead peer must cost milliseconds
/// (200 ms connect timeout, not the tens of seconds of a default dial), and a
/// peer that stops sending is dropped after 5 s below 1 KiB/s. There is no
/// total timeout by default, because a large blob streamed to a slow client
/// legitimately takes long (and time spent paused by backpressure counts
/// against libcurl's total timeout, but not against its low-speed check).
public struct PeerRequest: Sendable {
    public enum Method: String, Sendable {
        case get = "GET"
        case head = "HEAD"
    }

    /// Absolute `http://` or `https://` URL.
    public var url: String
    public var method: Method
    /// Extra request headers, e.g. the hop marker and the cluster token the
    /// caller derives. `Range` is set from `range`, not here.
    public var headers: HTTPHeaders
    /// Ask for part of the representation (`Range: bytes=start-[end]`).
    public var range: ByteRange?
    /// Time allowed to establish the TCP connection (libcurl has millisecond
    /// resolution here).
    public var connectTimeout: Duration
    /// Abort when fewer than this many bytes per second arrive for
    /// `lowSpeedTime`. Zero disables the check.
    public var lowSpeedLimit: Int
    /// How long the transfer may stay below `lowSpeedLimit`. libcurl counts
    /// whole seconds: this is rounded up, with a minimum of one second.
    public var lowSpeedTime: Duration
    /// Limit on the whole transfer, or none.
    public var timeout: Duration?

    public init(
        url: String,
        method: Method = .get,
        headers: HTTPHeaders = [:],
        range: ByteRange? = nil,
        connectTimeout: Duration = .milliseconds(200),
        lowSpeedLimit: Int = 1024,
        lowSpeedTime: Duration = .seconds(5),
        timeout: Duration? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.range = range
        self.connectTimeout = connectTimeout
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
        self.timeout = timeout
    }

    /// Rejects what libcurl would send verbatim and a peer could misread:
    /// CR or LF in header names or values (request splitting), empty names,
    /// a `Range` header given by hand, a malformed range, non-HTTP schemes.
    func validate() throws(PeerFetchError) {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw .invalidRequest("URL must be http or https: \(url)")
        }
        for (name, value) in headers {
            if name.isEmpty || name.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == UInt8(ascii: ":") || $0 == 32 }) {
                throw .invalidRequest("bad header name \(name.debugDescription)")
            }
            if value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
                throw .invalidRequest("bad value for header \(name)")
            }
            if name.lowercased() == "range" {
                throw .invalidRequest("set PeerRequest.range instead of a Range header")
            }
        }
        if let range, range.start < 0 || (range.end.map { $0 < range.start } ?? false) {
            throw .invalidRequest("bad range \(range)")
        }
    }
}

extension PeerRequest {
    /// A single byte range, both ends inclusive as in HTTP (`bytes=start-end`);
    /// a missing end means "to the end of the representation".
    public struct ByteRange: Sendable, Hashable, CustomStringConvertible {
        public var start: Int64
        public var end: Int64?

        public init(start: Int64, end: Int64? = nil) {
            self.start = start
            self.end = end
        }

        /// The `Range` header value.
        public var headerValue: String { "bytes=" + description }

        /// `start-end` or `start-`, the form libcurl's `CURLOPT_RANGE` takes.
        public var description: String { "\(start)-" + (end.map { "\($0)" } ?? "") }
    }
}
