import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server on SwiftNIO with keep-alive.
///
/// SwiftNIO rather than Hummingbird because NIOHTTP1 accepts a `FileRegion`
/// as a body part, which NIO writes with sendfile(2): local blobs go from
/// the page cache to the socket without passing through user space.
public struct HTTPServer: Sendable {
    public let host: String
    public let port: Int
    public let handler: any HTTPHandler
    public let logger: Logger
    /// Log one `info` line per request once its last byte is written:
    /// method, path, status, body bytes, milliseconds, client, and the
    /// handler's `logMetadata`.
    public let accessLog: Bool
    /// Header and idle timeouts, connection caps.
    public let limits: HTTPServerLimits
    /// Told of every exchange once its last byte is written (metrics, the
    /// status page's recent requests).
    public let observers: [any HTTPExchangeObserver]

    public init(
        host: String, port: Int, handler: any HTTPHandler, logger: Logger, accessLog: Bool = false,
        limits: HTTPServerLimits = HTTPServerLimits(), observers: [any HTTPExchangeObserver] = []
    ) {
        self.host = host
        self.port = port
        self.handler = handler
        self.logger = logger
        self.accessLog = accessLog
        self.limits = limits
        self.observers = observers
    }

    /// Binds and serves until cancelled. `onBound` receives the bound
    /// address (useful with port 0).
    public func run(onBound: @Sendable (SocketAddress) -> Void = { _ in }) async throws {
        let limiter = ConnectionLimiter(limits)
        let logger = logger
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            // `.tcpOption`: `.socketOption(.tcp_nodelay)` is SOL_SOCKET/1, i.e. SO_DEBUG.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { (channel: any Channel) -> EventLoopFuture<Connection> in
                // Over the caps: closed at once, and (NIO drops a connection
                // whose initialiser fails) never handed to the accept loop.
                if let address = channel.remoteAddress?.ipAddress, !HTTPRequest.isLoopback(address) {
                    guard limiter.admit(address) else {
                        logger.debug("http connection refused: over the connection cap", metadata: ["peer": "\(address)"])
                        channel.close(promise: nil)
                        return channel.eventLoop.makeFailedFuture(ConnectionRefused())
                    }
                    channel.closeFuture.whenComplete { _ in limiter.release(address) }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    let deadlines = RequestDeadlines(limits: limits)
                    try channel.pipeline.syncOperations.addHandler(FirstByteWatch(deadlines), position: .first)
                    try channel.pipeline.syncOperations.addHandler(deadlines)
                    try channel.pipeline.syncOperations.addHandler(FileRegionCloser())
                    var written: AsyncStream<Bool>?
                    if accessLog || !observers.isEmpty {
                        let (stream, signal) = AsyncStream.makeStream(of: Bool.self)
                        try channel.pipeline.syncOperations.addHandler(ResponseWrittenSignal(signal))
                        written = stream
                    }
                    let connection = try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                    return Connection(channel: connection, responsesWritten: written)
                }
            }
        if let address = server.channel.localAddress { onBound(address) }
        logger.info("http listening", metadata: ["address": "\(host):\(server.channel.localAddress?.port ?? port)"])
        try await withTaskCancellationHandler {
            try await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await serve(connection) }
                    }
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    /// A connection over the caps (see `HTTPServerLimits`).
    struct ConnectionRefused: Error {}

    /// One accepted connection: the async channel and, with the access log
    /// on, whether each response's last byte was written to the socket.
    private struct Connection: Sendable {
        let channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
        let responsesWritten: AsyncStream<Bool>?
    }

    private func serve(_ connection: Connection) async {
        let remote = connection.channel.channel.remoteAddress
        do {
            try await connection.channel.executeThenClose { inbound, outbound in
                var written = connection.responsesWritten?.makeAsyncIterator()
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                    case .body:
                        break  // the pull API has no request bodies worth reading
                    case .end:
                        guard let h = head else { continue }
                        head = nil
                        let started = ContinuousClock.now
                        let request = HTTPRequest(method: h.method, uri: h.uri, headers: h.headers, remoteAddress: remote)
                        let response = await handler.handle(request)
                        for observer in observers { observer.responseStarted(request, response) }
                        var bytes: Int64 = 0
                        do {
                            try await write(response, for: h, to: outbound, bytes: &bytes)
                        } catch {
                            logAccess(h, response, bytes: bytes, since: started, remote: remote, error: "\(error)")
                            observe(request, response, bytes: bytes, since: started, error: "\(error)")
                            throw error
                        }
                        if written != nil {
                            // Wait for the last byte to reach the socket: a
                            // file region is written after `write` returns.
                            let complete = await written?.next() ?? false
                            let error = complete ? nil : "the connection closed before the response was written"
                            logAccess(h, response, bytes: bytes, since: started, remote: remote, error: error)
                            observe(request, response, bytes: bytes, since: started, error: error)
                        }
                        if !h.isKeepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("http connection ended", metadata: ["peer": "\(remote.map { "\($0)" } ?? "?")", "error": "\(error)"])
        }
    }

    private func logAccess(
        _ request: HTTPRequestHead, _ response: HTTPResponse, bytes: Int64, since started: ContinuousClock.Instant,
        remote: SocketAddress?, error: String?
    ) {
        guard accessLog else { return }
        var metadata = response.logMetadata
        metadata["method"] = "\(request.method.rawValue)"
        metadata["path"] = "\(request.uri)"
        metadata["status"] = "\(response.status.code)"
        metadata["bytes"] = "\(bytes)"
        metadata["ms"] = "\(Self.milliseconds(ContinuousClock.now - started))"
        metadata["client"] = "\(remote?.ipAddress ?? "?")"
        if let error { metadata["aborted"] = "\(error)" }
        logger.info("request", metadata: metadata)
    }

    private func observe(
        _ request: HTTPRequest, _ response: HTTPResponse, bytes: Int64, since started: ContinuousClock.Instant, error: String?
    ) {
        guard !observers.isEmpty else { return }
        let exchange = HTTPExchange(
            request: request, status: response.status, metadata: response.logMetadata, bytes: bytes,
            duration: ContinuousClock.now - started, error: error)
        for observer in observers { observer.exchangeFinished(exchange) }
    }

    /// Milliseconds with one decimal, e.g. `12.5`.
    static func milliseconds(_ duration: Duration) -> String {
        let tenths = duration.components.seconds * 10_000 + duration.components.attoseconds / 100_000_000_000_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}
