import Logging
import NIOCore
import NIOHTTP1

/// One request and its response, as `HTTPServer` reports it to its
/// observers once the response's last byte is written (or the response is
/// cut short).
public struct HTTPExchange: Sendable {
    public var request: HTTPRequest
    public var status: HTTPResponseStatus
    /// The handler's annotations (`source`, `peer`; see `HTTPResponse.logMetadata`).
    public var metadata: Logger.Metadata
    /// Body bytes handed to the socket.
    public var bytes: Int64
    /// From the end of the request to the last byte written.
    public var duration: Duration
    /// Why the response was cut short, or nil if it was written whole.
    public var error: String?

    public init(
        request: HTTPRequest, status: HTTPResponseStatus, metadata: Logger.Metadata, bytes: Int64, duration: Duration,
        error: String?
    ) {
        self.request = request
        self.status = status
        self.metadata = metadata
        self.bytes = bytes
        self.duration = duration
        self.error = error
    }

    /// A string annotation of the handler, e.g. `source` or `peer`.
    public func annotation(_ key: String) -> String? {
        guard let value = metadata[key] else { return nil }
        if case .string(let text) = value { return text }
        return "\(value)"
    }
}

/// Watches what an `HTTPServer` answers: metrics, the status page's list of
/// recent requests. Called on the connection's task; must not block.
public protocol HTTPExchangeObserver: Sendable {
    /// The handler has answered; the body is about to be written.
    func responseStarted(_ request: HTTPRequest, _ response: HTTPResponse)
    /// The response is written, or cut short (`exchange.error`).
    func exchangeFinished(_ exchange: HTTPExchange)
}

extension HTTPExchangeObserver {
    public func responseStarted(_ request: HTTPRequest, _ response: HTTPResponse) {}
}
