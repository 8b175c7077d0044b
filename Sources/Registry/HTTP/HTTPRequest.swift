import NIOCore
import NIOHTTP1

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
