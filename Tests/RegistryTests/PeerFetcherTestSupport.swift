import Catalog
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import TestSupport

@testable import Registry

#if canImport(Glibc)
import Glibc
#endif

/// A fake peer: our own `HTTPServer` on 127.0.0.1 with a closure as handler,
/// recording every request and the client port it came from (one port per
/// TCP connection).
final class FetchTestPeer: Sendable {
    struct Seen: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var clientPort: Int?
    }

    let port: Int
    private let task: Task<Void, any Error>
    private let recorder: Recorder

    private init(port: Int, task: Task<Void, any Error>, recorder: Recorder) {
        self.port = port
        self.task = task
        self.recorder = recorder
    }

    static func start(_ handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) async throws -> FetchTestPeer {
        let recorder = Recorder()
        let server = HTTPServer(
            host: "127.0.0.1", port: 0,
            handler: FetchTestHandler { request in
                recorder.requests.withLock {
                    $0.append(Seen(method: request.method, uri: request.uri, headers: request.headers, clientPort: request.remoteAddress?.port))
                }
                return await handler(request)
            },
            logger: Logger(label: "fake-peer", factory: { _ in SwiftLogNoOpLogHandler() }))
        let (port, task) = try await startTestServer(server)
        return FetchTestPeer(port: port, task: task, recorder: recorder)
    }

    /// A fake peer serving `blob` at any path, honouring `Range: bytes=a-[b]`.
    static func serving(_ blob: ByteBuffer, extraHeaders: HTTPHeaders = [:]) async throws -> FetchTestPeer {
        try await start { request in fetchTestRangeResponse(blob, request, extraHeaders: extraHeaders) }
    }

    var url: String { "http://127.0.0.1:\(port)/v2/test/blobs/x" }

    var requests: [Seen] { recorder.requests.withLock { $0 } }

    /// Distinct TCP connections that carried requests.
    var connections: Int { Set(requests.compactMap(\.clientPort)).count }

    func stop() {
        task.cancel()
    }

    deinit { task.cancel() }

    private final class Recorder: Sendable {
        let requests = Mutex<[Seen]>([])
    }
}

/// Runs `server` until the returned task is cancelled; the port it bound.
func startTestServer(_ server: HTTPServer) async throws -> (port: Int, task: Task<Void, any Error>) {
    let (bound, continuation) = AsyncStream<Int>.makeStream()
    let task = Task {
        try await server.run(onBound: { address in
            continuation.yield(address.port ?? 0)
            continuation.finish()
        })
    }
    var iterator = bound.makeAsyncIterator()
    guard let port = await iterator.next(), port > 0 else {
        task.cancel()
        throw FetchTestFailure("the test server did not bind")
    }
    return (port, task)
}

struct FetchTestHandler: HTTPHandler {
    let body: @Sendable (HTTPRequest) async -> HTTPResponse
    init(_ body: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) { self.body = body }
    func handle(_ request: HTTPRequest) async -> HTTPResponse { await body(request) }
}

/// 200 with the whole blob, or 206 for `Range: bytes=a-[b]`.
func fetchTestRangeResponse(_ blob: ByteBuffer, _ request: HTTPRequest, extraHeaders: HTTPHeaders = [:]) -> HTTPResponse {
    var headers = extraHeaders
    headers.add(name: "Content-Type", value: "application/octet-stream")
    guard let range = request.headers.first(name: "Range") else {
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(blob))
    }
    let spec = range.dropFirst("bytes=".count).split(separator: "-", omittingEmptySubsequences: false)
    guard range.hasPrefix("bytes="), spec.count == 2, let first = Int(spec[0]), first < blob.readableBytes else {
        return HTTPResponse(status: .rangeNotSatisfiable, headers: ["Content-Range": "bytes */\(blob.readableBytes)"])
    }
    let last = Int(spec[1]).map { min($0, blob.readableBytes - 1) } ?? blob.readableBytes - 1
    headers.add(name: "Content-Range", value: "bytes \(first)-\(last)/\(blob.readableBytes)")
    return HTTPResponse(status: .partialContent, headers: headers, body: .bytes(blob.getSlice(at: first, length: last - first + 1)!))
}

/// A body that yields `prefix` and then fails (the server aborts the
/// connection) or never ends (a stalled peer), with a `Content-Length` of
/// `declaredLength`.
func fetchTestBrokenResponse(prefix: ByteBuffer, declaredLength: Int, thenStall: Bool) -> HTTPResponse {
    let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
    var rest = prefix
    while rest.readableBytes > 0 {
        continuation.yield(rest.readSlice(length: min(64 * 1024, rest.readableBytes))!)
    }
    if thenStall {
        // Keep the continuation alive until the stream is dropped, so the
        // response neither ends nor fails: the peer just stops sending.
        continuation.onTermination = { _ in _ = continuation }
    } else {
        continuation.finish(throwing: FetchTestFailure("peer dies mid-stream"))
    }
    return HTTPResponse(
        status: .ok, headers: ["Content-Type": "application/octet-stream"],
        body: .stream(length: Int64(declaredLength), stream))
}

/// Server-side evidence of what happened to a streamed body: how much was
/// produced, and whether the server dropped the stream before its end
/// (which it does only when writing to the connection failed).
final class FetchStreamProbe: Sendable {
    private let state = Mutex((produced: 0, finished: false, dropped: false))

    var produced: Int { state.withLock { $0.produced } }
    var droppedEarly: Bool { state.withLock { $0.dropped && !$0.finished } }

    /// A pull-driven endless-ish body of `total` bytes (nothing is produced
    /// ahead of the socket), reporting to this probe.
    func body(total: Int, chunk: Int = 64 * 1024) -> HTTPResponse.Body {
        let token = Token(self)
        let buffer = ByteBuffer(repeating: 0x5A, count: chunk)
        let stream = AsyncThrowingStream<ByteBuffer, any Error>(unfolding: {
            let n = token.probe.state.withLock { s -> Int in
                let n = min(chunk, total - s.produced)
                s.produced += n
                if n == 0 { s.finished = true }
                return n
            }
            return n == 0 ? nil : buffer.getSlice(at: 0, length: n)
        })
        return .stream(length: Int64(total), stream)
    }

    /// Released with the stream: the server is done with the body.
    private final class Token: Sendable {
        let probe: FetchStreamProbe
        init(_ probe: FetchStreamProbe) { self.probe = probe }
        deinit { probe.state.withLock { $0.dropped = true } }
    }
}

struct FetchTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Deterministic pseudo-random bytes (splitmix64), so that a resume at the
/// wrong offset cannot go unnoticed the way it could with repeating content.
func fetchTestPayload(size: Int, seed: UInt64) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: size)
    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
        var random = SplitMix64(seed: seed)
        let words = size / 8
        let out = raw.baseAddress!.bindMemory(to: UInt64.self, capacity: words)
        for i in 0..<words { out[i] = random.next() }
        for i in (words * 8)..<size { raw[i] = UInt8(truncatingIfNeeded: i) }
        return size
    }
    return buffer
}

/// A listening socket whose accept queue is full (backlog 0, one connection
/// queued and never accepted): Linux drops further SYNs, so a connect to it
/// hangs until the client's connect timeout, like a blackholed peer.
final class FullBacklogListener {
    let port: Int
    private var fds: [Int32] = []

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw FetchTestFailure("socket failed") }
        fds.append(listener)
        var address = loopbackAddress(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let port = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Int in
                guard bind(listener, sa, length) == 0, listen(listener, 0) == 0, getsockname(listener, sa, &length) == 0 else {
                    return 0
                }
                return Int(UInt16(bigEndian: pointer.pointee.sin_port))
            }
        }
        guard port > 0 else { throw FetchTestFailure("listen failed") }
        self.port = port
        // Fill the queue: blocking connects, each completing in the kernel.
        for _ in 0..<2 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            fds.append(filler)
            var target = loopbackAddress(port: port)
            var flags = fcntl(filler, F_GETFL)
            flags |= O_NONBLOCK
            _ = fcntl(filler, F_SETFL, flags)
            _ = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
    }

    deinit { for fd in fds { close(fd) } }
}

private func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    return address
}
