import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

@testable import Registry

/// One HTTP/1.1 exchange written and read byte for byte, with
/// `Connection: close`: what the server declared and what it actually sent
/// can be compared (a `Content-Length` the body does not fill shows), and
/// any header may be sent, malformed `Range` values included.
enum RawHTTP {
    struct Exchange: Sendable {
        var status: Int
        var headers: HTTPHeaders
        /// Every byte after the head, until the server closed.
        var body: ByteBuffer
        var declaredLength: Int64? { PeerResponseHead(status: status, headers: headers).contentLength }
    }

    static func get(
        host: String = "127.0.0.1", port: Int, path: String, method: String = "GET", headers: [(String, String)] = []
    ) async throws -> Exchange {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var received = ByteBuffer()
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: text))
            for try await chunk in inbound { received.writeImmutableBuffer(chunk) }
        }
        return try parse(received)
    }

    static func parse(_ bytes: ByteBuffer) throws -> Exchange {
        let view = bytes.readableBytesView
        guard let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else { throw FetchTestFailure("no response head") }
        let head = String(decoding: view[view.startIndex..<end.lowerBound], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw FetchTestFailure("bad status line") }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let body = bytes.getSlice(at: end.upperBound, length: view.endIndex - end.upperBound) ?? ByteBuffer()
        return Exchange(status: status, headers: headers, body: body)
    }
}

