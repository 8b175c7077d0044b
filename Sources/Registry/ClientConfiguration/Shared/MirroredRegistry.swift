#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A registry host namespace as containerd names its directory under the
/// hosts directory (`config_path`): `docker.io`, `registry.example.com:5000`,
/// `[fd00::1]:5000`, or the catch-all `_default`.
///
/// Validation is strict on purpose: the name becomes a directory name, so
/// anything that is not a host (a URL, a path, `..`) is refused before the
/// file system is touched.
public struct MirroredRegistry: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The directory name, exactly as the registry appears in image references.
    public let name: String

    /// containerd's catch-all directory: used for every registry that has no
    /// directory of its own.
    public static let catchAllName = "_default"

    /// Registries mirrored when none are named: the public registries most
    /// clusters pull from.
    public static let defaults: [MirroredRegistry] = [
        "docker.io", "ghcr.io", "quay.io", "registry.k8s.io", "gcr.io", "public.ecr.aws",
    ].map { MirroredRegistry(unchecked: $0) }

    public static var catchAll: MirroredRegistry { MirroredRegistry(unchecked: catchAllName) }

    init(unchecked name: String) { self.name = name }

    public init(validating text: String) throws(ClientConfigError) {
        let name = Self.trimmed(text)
        if let reason = Self.problem(with: name) {
            throw .invalidRegistry(text, reason: reason)
        }
        self.name = name
    }

    public var description: String { name }
    public static func < (a: Self, b: Self) -> Bool { a.name < b.name }

    public var isCatchAll: Bool { name == Self.catchAllName }

    /// The host part without the port (brackets removed for IPv6).
    var host: String {
        if name.hasPrefix("["), let close = name.firstIndex(of: "]") {
            return String(name[name.index(after: name.startIndex)..<close])
        }
        if let colon = name.lastIndex(of: ":") { return String(name[..<colon]) }
        return name
    }

    /// The port, if the name carries one.
    var port: String? {
        if name.hasPrefix("["), let close = name.firstIndex(of: "]") {
            let rest = name[name.index(after: close)...]
            return rest.hasPrefix(":") ? String(rest.dropFirst()) : nil
        }
        if let colon = name.lastIndex(of: ":") { return String(name[name.index(after: colon)...]) }
        return nil
    }

    /// Whether containerd treats the registry as local (its default there is
    /// plain HTTP, not HTTPS).
    var isLoopback: Bool {
        let host = self.host.lowercased()
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The real upstream containerd falls back to, written as `server`.
    /// `nil` where containerd's own default is the right answer: the
    /// catch-all (each registry is its own server) and loopback registries
    /// (containerd picks plain HTTP for those).
    public var upstreamServer: String? {
        if isCatchAll || isLoopback { return nil }
        if name == "docker.io" { return "https://registry-1.docker.io" }
        return "https://\(name)"
    }

    /// `server` for a registry that speaks plain HTTP (an edge site's own
    /// registry, say): containerd would otherwise try HTTPS on it. Nil for
    /// the catch-all, which has no server of its own.
    public var plainHTTPServer: String? {
        isCatchAll ? nil : "http://\(name)"
    }

    /// `text` as a registry whose upstream speaks plain HTTP: a host, not
    /// the catch-all (it has no server of its own) nor Docker Hub (HTTPS only,
    /// at another host name).
    public init(validatingPlainHTTP text: String) throws(ClientConfigError) {
        try self.init(validating: text)
        if isCatchAll { throw .invalidRegistry(text, reason: "the catch-all has no server of its own to reach over plain HTTP") }
        if name == "docker.io" { throw .invalidRegistry(text, reason: "Docker Hub is reached over HTTPS only") }
    }

    /// containerd (1.6 and later) looks for `host_port_` before `host:port`
    /// (a spelling that also works on Windows); this is that alternative.
    var alternateDirectoryName: String? {
        guard let port else { return nil }
        return name.hasPrefix("[") ? nil : "\(host)_\(port)_"
    }

    static func trimmed(_ text: String) -> String {
        var scalars = Substring(text)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }

    /// Why `name` is not a usable registry host, or nil if it is.
    static func problem(with name: String) -> String? {
        if name.isEmpty { return "it is empty" }
        if name == catchAllName { return nil }
        if name.contains("://") {
            return "give the registry host as it appears in image references (e.g. ghcr.io), not a URL"
        }
        if name.contains("/") { return "a registry host cannot contain '/'" }
        var host = Substring(name)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return "unterminated '[' in an IPv6 address" }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if rest.hasPrefix(":") { port = rest.dropFirst() } else if !rest.isEmpty { return "unexpected text after ']'" }
            var address = in6_addr()
            guard inet_pton(AF_INET6, String(host), &address) == 1 else { return "'\(host)' is not an IPv6 address" }
        } else {
            if let colon = host.lastIndex(of: ":") {
                guard host.firstIndex(of: ":") == colon else { return "write IPv6 addresses in brackets, e.g. [fd00::1]:5000" }
                port = host[host.index(after: colon)...]
                host = host[..<colon]
            }
            if let reason = hostnameProblem(host) { return reason }
        }
        if let port {
            guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(port), (1...65535).contains(value)
            else { return "port '\(port)' is not a number from 1 to 65535" }
        }
        return nil
    }

    /// A DNS name or IPv4 address: labels of letters, digits and inner hyphens.
    private static func hostnameProblem(_ host: Substring) -> String? {
        if host.isEmpty { return "the host is empty" }
        if host.utf8.count > 253 { return "the host is longer than 253 characters" }
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "empty label in '\(host)'" }
            if label.utf8.count > 63 { return "label '\(label)' is longer than 63 characters" }
            guard label.unicodeScalars.allSatisfy({ $0.isASCIIAlphanumeric || $0 == "-" }) else {
                return "'\(label)' may contain only letters, digits and '-'"
            }
            if label.hasPrefix("-") || label.hasSuffix("-") { return "'\(label)' may not begin or end with '-'" }
        }
        return nil
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIIAlphanumeric: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}

