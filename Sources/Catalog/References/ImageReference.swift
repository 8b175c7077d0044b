/// An image reference, parsed strictly and normalised the way Docker and
/// containerd normalise names: `ubuntu` is `docker.io/library/ubuntu:latest`,
/// `index.docker.io/x/y` is `docker.io/x/y`, registry host names are lower case.
///
/// Grammar (OCI distribution spec and distribution/reference):
///
///     reference   := [registry "/"] repository [":" tag] ["@" digest]
///     registry    := host [":" port]    (first component, if it has "." or ":",
///                                        is "localhost", or has upper case)
///     repository  := component ("/" component)*
///     component   := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
///     tag         := [A-Za-z0-9_] [A-Za-z0-9._-]{0,127}
///     digest      := sha256:<64 lowercase hex>
///
/// plus the distribution limit of 255 characters for `registry/repository`.
/// A name with neither tag nor digest gets the tag `latest`. The grammar
/// excludes `..`, empty components, upper-case repositories, `%`, spaces and
/// anything else that could steer a path, so a parsed reference is safe to use
/// in keys, file names and URLs.
///
/// Two textual forms, two parsers:
/// - `init(_:)` reads what a user types, in Docker's familiar grammar above,
///   where `myhost/app` is a Docker Hub repository.
/// - `init(qualified:)` reads the fully qualified form that `description`
///   prints and that image stores hold (containerd's grammar: the first
///   component is always the registry). It is the exact inverse of
///   `description`, also for registries the familiar grammar cannot name (a
///   dot-less host such as `myhost`, which containerd asks for with
///   `?ns=myhost`). Names read back from a store must use it, or a tag key
///   printed by one node would be read as another reference by the next.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// Registry host, with port if any: `docker.io`, `registry.local:5000`.
    public let registry: String
    /// Repository path within the registry: `library/ubuntu`.
    public let repository: String
    public let tag: String?
    public let digest: Digest?

    /// The registry that Docker Hub names normalise to.
    public static let dockerHub = "docker.io"
    /// Longest `registry/repository`, as in distribution/reference.
    public static let maximumNameLength = 255
    public static let maximumTagLength = 128

    /// Parses and normalises a reference as a user writes it (Docker's
    /// familiar grammar: a first component without `.` or `:` that is not
    /// `localhost` and has no upper case is part of a Docker Hub repository).
    public init(_ string: String) throws(ParseError) {
        let (remainder, tag, digest) = try Self.split(string)
        var registry = Self.dockerHub
        var repository = remainder
        if let slash = remainder.firstIndex(of: "/") {
            let first = remainder[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost"
                || first.contains(where: \.isUppercase) {
                registry = String(first)
                repository = remainder[remainder.index(after: slash)...]
            }
        }
        try self.init(registry: registry, repository: String(repository),
                      tag: tag ?? (digest == nil ? "latest" : nil), digest: digest)
    }

    /// Parses the fully qualified form `registry/repository[:tag][@digest]`
    /// that `description` prints and image stores hold: the first component
    /// is the registry whatever it looks like, and no tag is added, so
    /// `ImageReference(qualified: r.description) == r` for every reference.
    public init(qualified string: String) throws(ParseError) {
        let (remainder, tag, digest) = try Self.split(string)
        guard let slash = remainder.firstIndex(of: "/") else { throw .notQualified }
        try self.init(registry: String(remainder[..<slash]), repository: String(remainder[remainder.index(after: slash)...]),
                      tag: tag, digest: digest)
    }

    /// Splits `name[:tag][@digest]` (the tag's colon is the last one not
    /// followed by a `/`, so a registry port is not taken for a tag).
    private static func split(_ string: String) throws(ParseError) -> (name: Substring, tag: String?, digest: Digest?) {
        guard !string.isEmpty else { throw .empty }
        // Longest valid input: a 255-character name, ":" and a 128-character tag, "@" and a digest.
        guard string.utf8.count <= Self.maximumNameLength + 1 + Self.maximumTagLength + 1 + 71 else {
            throw .tooLong
        }
        var remainder = Substring(string)
        var digest: Digest? = nil
        if let at = remainder.firstIndex(of: "@") {
            guard let parsed = Digest(remainder[remainder.index(after: at)...]) else { throw .invalidDigest }
            digest = parsed
            remainder = remainder[..<at]
        }
        var tag: String? = nil
        if let colon = remainder.lastIndex(of: ":"),
           remainder[colon...].firstIndex(of: "/") == nil {
            tag = String(remainder[remainder.index(after: colon)...])
            remainder = remainder[..<colon]
        }
        return (remainder, tag, digest)
    }

    /// Validates and normalises components received separately, as the
    /// registry front receives them (`/v2/<repository>/manifests/<tag>` with
    /// `?ns=<registry>`). Applies Docker Hub rules but adds no default tag.
    public init(registry: String, repository: String, tag: String? = nil, digest: Digest? = nil) throws(ParseError) {
        // ASCII only: Unicode case mapping would turn a KELVIN SIGN into `k`.
        var host = String(decoding: registry.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
        if host == "index.docker.io" { host = Self.dockerHub }
        guard Self.isValidRegistry(host) else { throw .invalidRegistry(registry) }

        var path = repository
        if host == Self.dockerHub && !path.contains("/") { path = "library/" + path }
        guard !path.isEmpty else { throw .invalidRepository(repository) }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard Self.isValidPathComponent(component) else { throw .invalidRepository(repository) }
        }
        guard host.utf8.count + 1 + path.utf8.count <= Self.maximumNameLength else { throw .nameTooLong }
        if let tag { guard Self.isValidTag(tag) else { throw .invalidTag(tag) } }

        self.registry = host
        self.repository = path
        self.tag = tag
        self.digest = digest
    }

    /// `registry/repository`.
    public var name: String { registry + "/" + repository }

    /// `registry/repository:tag`, the key a tag is advertised under; nil for a
    /// reference without a tag.
    public var tagKey: String? { tag.map { name + ":" + $0 } }

    /// The normalised reference: `registry/repository[:tag][@digest]`.
    public var description: String {
        var text = name
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.description }
        return text
    }

    /// Why a reference was rejected.
    public enum ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        case empty
        case tooLong
        case nameTooLong
        case invalidRegistry(String)
        case invalidRepository(String)
        case invalidTag(String)
        case invalidDigest
        /// `init(qualified:)` was given a name without a registry component.
        case notQualified

        public var description: String {
            switch self {
            case .empty: "empty image reference"
            case .tooLong: "image reference too long"
            case .nameTooLong: "registry/repository longer than \(ImageReference.maximumNameLength) characters"
            case .invalidRegistry(let host): "invalid registry host \"\(host.prefix(80))\""
            case .invalidRepository(let path): "invalid repository \"\(path.prefix(80))\""
            case .invalidTag(let tag): "invalid tag \"\(tag.prefix(80))\""
            case .invalidDigest: "invalid digest (only sha256:<64 lowercase hex> is accepted)"
            case .notQualified: "not a fully qualified reference (registry/repository[:tag][@digest])"
            }
        }
    }
}

// MARK: - Grammar

extension ImageReference {
    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidPathComponent(_ component: Substring) -> Bool {
        var separatorRun: [UInt8] = []
        var sawAlphanumeric = false
        for byte in component.utf8 {
            if isLowerAlphanumeric(byte) {
                if !separatorRun.isEmpty {
                    guard sawAlphanumeric, isValidSeparator(separatorRun) else { return false }
                    separatorRun.removeAll()
                }
                sawAlphanumeric = true
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") {
                separatorRun.append(byte)
            } else {
                return false
            }
        }
        return sawAlphanumeric && separatorRun.isEmpty
    }

    /// `\.|_|__|-+`
    private static func isValidSeparator(_ run: [UInt8]) -> Bool {
        run == [UInt8(ascii: ".")] || run == [UInt8(ascii: "_")] || run == [UInt8(ascii: "_"), UInt8(ascii: "_")]
            || run.allSatisfy { $0 == UInt8(ascii: "-") }
    }

    /// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`
    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, bytes.count <= maximumTagLength,
              isAlphanumeric(first) || first == UInt8(ascii: "_")
        else { return false }
        return bytes.dropFirst().allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
        }
    }

    /// `host[:port]`, host a DNS name (labels of letters, digits and inner
    /// hyphens) or a bracketed IPv6 address; port 1...65535. Expects lower case.
    public static func isValidRegistry(_ registry: String) -> Bool {
        let host: Substring
        var port: Substring? = nil
        if registry.hasPrefix("[") {
            guard let close = registry.firstIndex(of: "]") else { return false }
            host = registry[...close]
            let rest = registry[registry.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return false }
                port = rest.dropFirst()
            }
        } else if let colon = registry.firstIndex(of: ":") {
            host = registry[..<colon]
            port = registry[registry.index(after: colon)...]
        } else {
            host = registry[...]
        }
        if let port, !isValidPort(port) { return false }
        return host.hasPrefix("[") ? isValidBracketedIPv6(host) : isValidDNSName(host)
    }

    private static func isValidPort(_ port: Substring) -> Bool {
        (1...5).contains(port.utf8.count) && port.utf8.allSatisfy(isDigit)
            && (1...65535).contains(Int(port) ?? 0)
    }

    /// `[` hex digits, colons and dots (an embedded IPv4) `]`; the shape only.
    private static func isValidBracketedIPv6(_ host: Substring) -> Bool {
        let address = host.dropFirst().dropLast()
        return host.hasSuffix("]") && address.utf8.count >= 2 && address.contains(":")
            && address.utf8.allSatisfy { isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
    }

    private static func isValidDNSName(_ host: Substring) -> Bool {
        guard !host.isEmpty else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            let bytes = Array(label.utf8)
            guard let first = bytes.first, let last = bytes.last, bytes.count <= 63 else { return false }
            return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
                && bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
