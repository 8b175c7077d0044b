extension SWIM {
    /// Where a member can be reached: a host (an IP literal in practice) and a
    /// port. A plain value so the state machine needs no networking types.
    public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
        public var host: String
        public var port: UInt16

        public init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }

        /// Parses `host:port`, `[v6]:port`, or a bare host with `defaultPort`.
        public init?(parsing text: String, defaultPort: UInt16? = nil) {
            var host = Substring(text)
            var portText: Substring? = nil
            if host.hasPrefix("[") {
                guard let close = host.firstIndex(of: "]") else { return nil }
                let rest = host[host.index(after: close)...]
                host = host[host.index(after: host.startIndex)..<close]
                if rest.hasPrefix(":") { portText = rest.dropFirst() } else if !rest.isEmpty { return nil }
            } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
                portText = host[host.index(after: colon)...]
                host = host[..<colon]
            }
            guard !host.isEmpty, host.utf8.count <= 253 else { return nil }
            if let portText {
                guard let p = UInt16(portText), p != 0 else { return nil }
                self.init(host: String(host), port: p)
            } else {
                guard let defaultPort else { return nil }
                self.init(host: String(host), port: defaultPort)
            }
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        /// Whether `host` is fit to gossip and to log: 1 to 253 ASCII letters,
        /// digits, `.`, `-`, `_`, `:` (IPv6) and `%` (an IPv6 zone). IP
        /// literals and host names pass; control characters, spaces and
        /// anything that could forge a log line do not.
        public static func isValidHost(utf8 bytes: some Collection<UInt8>) -> Bool {
            guard !bytes.isEmpty, bytes.count <= 253 else { return false }
            return bytes.allSatisfy { b in
                MemberName.isLetterOrDigit(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                    || b == UInt8(ascii: ":") || b == UInt8(ascii: "%")
            }
        }
    }
}
