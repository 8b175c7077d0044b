import Foundation
import Logging
import Testing

@testable import Registry

/// What the `Connection` header of an answer says for each HTTP version and
/// request `Connection` header, and whether the server then closes: an
/// HTTP/1.0 client keeps a connection only when the answer says
/// `keep-alive` (RFC 9112 appendix C.2.2).
@Suite struct HTTPKeepAliveTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var version: String
        var connection: String?
        /// The answer's `Connection` header (nil: none).
        var answered: String?
        var closes: Bool
        var testDescription: String { "\(version) \(connection ?? "no Connection header")" }
    }

    @Test(arguments: [
        Row(version: "HTTP/1.0", connection: nil, answered: "close", closes: true),
        Row(version: "HTTP/1.0", connection: "keep-alive", answered: "keep-alive", closes: false),
        Row(version: "HTTP/1.0", connection: "Keep-Alive", answered: "keep-alive", closes: false),
        Row(version: "HTTP/1.1", connection: nil, answered: nil, closes: false),
        Row(version: "HTTP/1.1", connection: "close", answered: "close", closes: true),
    ])
    func connectionHeaderOfTheAnswer(_ row: Row) async throws {
        // The idle timeout closes a kept connection after 1.5 s: closing
        // well before it is the server ending the exchange.
        let (port, server) = try await HTTPServerLimitsTests.server(HTTPServerLimits(headerTimeout: .seconds(5), idleTimeout: .milliseconds(1500)))
        defer { server.cancel() }
        let request = "HEAD /v2/ \(row.version)\r\nHost: x\r\n" + (row.connection.map { "Connection: \($0)\r\n" } ?? "") + "\r\n"
        let (reply, closedAfter) = try await HTTPServerLimitsTests.exchange(port: port, request)
        let head = reply.components(separatedBy: "\r\n\r\n")[0]
        #expect(head.hasPrefix("\(row.version) 200"), "\(head)")
        let header = head.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("connection:") }
        #expect(header.map { $0.dropFirst("connection:".count).trimmingCharacters(in: .whitespaces).lowercased() } == row.answered)
        let after = try #require(closedAfter, "still open after 10 s")
        if row.closes {
            #expect(after < .milliseconds(1200), "closed only after \(after): not at the end of the answer")
        } else {
            #expect(after >= .milliseconds(1500), "closed after \(after), before the idle timeout")
        }
    }
}
