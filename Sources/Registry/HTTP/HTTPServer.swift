#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as the handlers see it: the head, the parsed path and query, and
/// who sent it.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var uri: String
    /// The path, percent-decoding left to the handler (registry names must
    /// be validated on their raw form).
    public var path: Substring
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var remoteAddress: SocketAddress?

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders, remoteAddress: SocketAddress?) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.remoteAddress = remoteAddress
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = parts.first ?? ""
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv[0]).removingPercentEncodingLeniently
                query[key] = kv.count > 1 ? String(kv[1]).removingPercentEncodingLeniently : ""
            }
        }
        self.query = query
    }

    /// Whether the request came from this host (loopback).
    public var isLoopback: Bool {
        guard let ip = remoteAddress?.ipAddress else { return false }
        return Self.isLoopback(ip)
    }

    static func isLoopback(_ ip: String) -> Bool {
        ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}

/// What a handler answers.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case empty
        case bytes(ByteBuffer)
        /// A region of an open file, written with sendfile(2) (zero-copy).
        /// The server closes the handle after writing.
        case file(NIOFileHandle, offset: Int64, length: Int64)
        /// Chunks produced while the response is written; throwing aborts
        /// the connection so the client never sees a complete wrong body.
        case stream(length: Int64?, AsyncThrowingStream<ByteBuffer, any Error>)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body
    /// What the handler adds to the access log line (e.g. where a blob
    /// came from). Not sent to the client.
    public var logMetadata: Logger.Metadata

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: Body = .empty, logMetadata: Logger.Metadata = [:]) {
        self.status = status
        self.headers = headers
        self.body = body
        self.logMetadata = logMetadata
    }

    public static func text(_ status: HTTPResponseStatus, _ text: String, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: .bytes(ByteBuffer(string: text)))
    }
}

/// Answers requests.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest) async -> HTTPResponse
}

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

    /// Writes `response`; `bytes` counts the body bytes handed to the channel.
    private func write(
        _ response: HTTPResponse, for request: HTTPRequestHead, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        bytes: inout Int64
    ) async throws {
        do {
            try await writeParts(response, for: request, to: outbound, bytes: &bytes)
        } catch {
            // A connection gone before the file region reached the pipeline
            // (the client left while the handler worked): the file is ours to close.
            if case .file(let handle, _, _) = response.body, handle.isOpen { try? handle.close() }
            throw error
        }
    }

    private func writeParts(
        _ response: HTTPResponse, for request: HTTPRequestHead, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        bytes: inout Int64
    ) async throws {
        var headers = response.headers
        let suppressBody = request.method == .HEAD
        switch response.body {
        case .empty:
            if headers["Content-Length"].isEmpty { headers.replaceOrAdd(name: "Content-Length", value: "0") }
        case .bytes(let b):
            if headers["Content-Length"].isEmpty { headers.replaceOrAdd(name: "Content-Length", value: "\(b.readableBytes)") }
        case .file(_, _, let length):
            headers.replaceOrAdd(name: "Content-Length", value: "\(length)")
        case .stream(let length, _):
            if let length { headers.replaceOrAdd(name: "Content-Length", value: "\(length)") } else {
                headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
            }
        }
        if !request.isKeepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers)))
        switch response.body {
        case .empty:
            break
        case .bytes(let b):
            if !suppressBody {
                try await outbound.write(.body(.byteBuffer(b)))
                bytes = Int64(b.readableBytes)
            }
        case .file(let handle, let offset, let length):
            if !suppressBody, length > 0 {
                // `FileRegionCloser` closes the handle once sendfile is done.
                let region = FileRegion(fileHandle: handle, readerIndex: Int(offset), endIndex: Int(offset + length))
                try await outbound.write(.body(.fileRegion(region)))
                bytes = length
            } else {
                try? handle.close()
            }
        case .stream(_, let chunks):
            if !suppressBody {
                for try await chunk in chunks {
                    try await outbound.write(.body(.byteBuffer(chunk)))
                    bytes += Int64(chunk.readableBytes)
                }
            }
        }
        try await outbound.write(.end(nil))
    }
}

/// Closes the file behind a `FileRegion` body once it has been written.
///
/// `NIOAsyncChannelOutboundWriter.write` returns when a write is queued, not
/// when sendfile(2) has finished, so the handler that produced the region
/// cannot close the file itself; this handler attaches the close to the
/// write's own promise.
final class FileRegionCloser: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    #if os(Linux)
    /// TCP_CORK, nginx's `tcp_nopush`: while sendfile runs, the kernel sends
    /// only full-sized segments. Without it, a loopback GET of a large blob
    /// ran about 20 % slower (nginx with `tcp_nopush off` slowed the same way).
    static let cork = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: CInt(TCP_CORK)))
    #endif

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .body(.fileRegion(let region)) = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let channel = context.channel
        #if os(Linux)
        try? channel.syncOptions?.setOption(Self.cork, value: 1)
        #endif
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.whenComplete { _ in
            try? region.fileHandle.close()
            #if os(Linux)
            // Uncorking sends the last partial segment at once.
            try? channel.syncOptions?.setOption(Self.cork, value: 0)
            #endif
        }
        context.write(data, promise: written)
    }
}

/// Reports, for each response, whether its `.end` part was written to the
/// socket (true) or failed (false, e.g. the connection closed). Writes
/// complete in order, so by then every body byte before it (a sendfile
/// region included) is written too. Only in the pipeline with the access log
/// on or observers: every response is then awaited, so the stream does not grow.
final class ResponseWrittenSignal: ChannelOutboundHandler, RemovableChannelHandler, Sendable {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let signal: AsyncStream<Bool>.Continuation

    init(_ signal: AsyncStream<Bool>.Continuation) {
        self.signal = signal
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let written = promise ?? context.eventLoop.makePromise()
        let signal = self.signal
        written.futureResult.whenComplete { result in
            if case .success = result { signal.yield(true) } else { signal.yield(false) }
        }
        context.write(data, promise: written)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        signal.finish()
    }
}

extension String {
    /// Percent-decoding that keeps malformed escapes as they are.
    var removingPercentEncodingLeniently: String {
        guard contains("%") || contains("+") else { return self }
        var out: [UInt8] = []
        var bytes = Array(utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%"), bytes.count >= 2,
                let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
            {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
