import Catalog

/// Why fetching from a peer failed. Every error the `Peer` types throw is one
/// of these (task cancellation included, as `.cancelled`).
///
/// The routing layer reads them as: `connectFailed`, `timedOut`, `stalled`,
/// `transferFailed` and `httpStatus` mean "try the next candidate";
/// `digestMismatch` means "this peer served wrong bytes: penalise it";
/// `cancelled` means "nobody wants the bytes any more: stop".
public enum PeerFetchError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No connection: refused, unreachable, name not resolved, or the
    /// connect timeout passed. Costs milliseconds on a dead peer.
    case connectFailed(String)
    /// The request's total timeout passed.
    case timedOut
    /// The body arrived slower than the low-speed limit for the low-speed time
    /// (time spent paused because our own consumer was slow does not count).
    case stalled
    /// The peer answered with a status the operation cannot use.
    case httpStatus(Int)
    /// The bytes do not hash to the digest they were requested by.
    case digestMismatch(expected: Digest, actual: Digest)
    /// More bytes than the caller's limit (buffer limit or expected length).
    case tooLarge
    /// The consumer went away, or the fetcher was shut down.
    case cancelled
    /// The connection broke after it was made: reset, closed before the end
    /// of the body, or an HTTP protocol error.
    case transferFailed(String)
    /// A well-formed HTTP response that contradicts the request, such as a
    /// `Content-Range` that does not start where we asked.
    case invalidResponse(String)
    /// The request cannot be sent as given (bad header characters, bad range).
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .connectFailed(let why): "connect failed: \(why)"
        case .timedOut: "timed out"
        case .stalled: "stalled (below the low-speed limit)"
        case .httpStatus(let code): "HTTP status \(code)"
        case .digestMismatch(let expected, let actual): "digest mismatch: expected \(expected), got \(actual)"
        case .tooLarge: "too large"
        case .cancelled: "cancelled"
        case .transferFailed(let why): "transfer failed: \(why)"
        case .invalidResponse(let why): "invalid response: \(why)"
        case .invalidRequest(let why): "invalid request: \(why)"
        }
    }

    /// Whether another candidate (or the same one later) might succeed.
    /// False for cancellation, caller limits and bad requests.
    public var isRetryable: Bool {
        switch self {
        case .connectFailed, .timedOut, .stalled, .httpStatus, .digestMismatch, .transferFailed, .invalidResponse: true
        case .tooLarge, .cancelled, .invalidRequest: false
        }
    }
}
