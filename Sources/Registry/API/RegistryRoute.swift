import Catalog

/// A parsed request of the OCI distribution pull API.
///
/// Parsing is strict: the repository must match the distribution name grammar
/// (no `..`, no empty components, no upper case, no `%`), references must be a
/// valid tag or a `sha256:` digest, and the whole path is bounded. Nothing
/// from a request reaches a file path or an upstream URL before it has been
/// parsed here.
public enum RegistryRoute: Hashable, Sendable {
    /// `GET /v2/`: the API version check.
    case base
    case manifest(ImageReference)
    /// A blob; the repository is validated but content is addressed by digest.
    case blob(repository: ImageReference, digest: Digest)

    /// Longest request path accepted (a 255-character name plus the longest reference).
    public static let maximumPathLength = 512

    public struct Rejection: Error, Hashable, Sendable {
        public var code: OCIErrorCode
        public var message: String
        /// 404 for paths that are simply not part of the API, 400 for malformed parts.
        public var notFound: Bool
    }

    /// Parses `path` (without query) for the upstream `registry` (from `?ns=`).
    public static func parse(path: Substring, registry: String) throws(Rejection) -> RegistryRoute {
        guard path.utf8.count <= maximumPathLength else {
            throw Rejection(code: .nameInvalid, message: "path too long", notFound: false)
        }
        if path == "/v2/" || path == "/v2" { return .base }
        guard path.hasPrefix("/v2/") else { throw Rejection(code: .unsupported, message: "not a registry API path", notFound: true) }
        let rest = path.dropFirst(4)
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { throw Rejection(code: .unsupported, message: "not a registry API path", notFound: true) }
        let kind = parts[parts.count - 2]
        let reference = String(parts[parts.count - 1])
        let name = parts[..<(parts.count - 2)].joined(separator: "/")
        let repository: ImageReference
        do {
            repository = try ImageReference(registry: registry, repository: name, tag: "latest")
        } catch {
            throw Rejection(code: .nameInvalid, message: "invalid repository name", notFound: false)
        }
        switch kind {
        case "manifests":
            if reference.hasPrefix("sha256:") || reference.contains(":") {
                guard let digest = Digest(reference) else {
                    throw Rejection(code: .digestInvalid, message: "invalid digest (only sha256:<64 hex> is accepted)", notFound: false)
                }
                return .manifest(try! ImageReference(registry: registry, repository: name, digest: digest))
            }
            do {
                return .manifest(try ImageReference(registry: registry, repository: name, tag: reference))
            } catch {
                throw Rejection(code: .manifestInvalid, message: "invalid tag", notFound: false)
            }
        case "blobs":
            guard let digest = Digest(reference) else {
                throw Rejection(code: .digestInvalid, message: "invalid digest (only sha256:<64 hex> is accepted)", notFound: false)
            }
            return .blob(repository: repository, digest: digest)
        default:
            throw Rejection(code: .unsupported, message: "only manifests and blobs can be pulled here", notFound: true)
        }
    }

    /// Parses a request whichever client sent it:
    /// - `?ns=<registry>` names the registry (containerd);
    /// - without it, a first path component that names a registry host
    ///   (it contains `.` or `:`, or is `localhost`) and is followed by a
    ///   repository is the registry: the prefixed form
    ///   `/v2/<registry>/<repository>/…` that containers/image clients send
    ///   for a mirror location `HOST:PORT/<registry>` (Docker Hub namespaces
    ///   contain neither `.` nor `:`, so the two cannot be confused);
    /// - otherwise the request is for Docker Hub (Docker Engine's `registry-mirrors`).
    public static func parse(path: Substring, namespace ns: String?) throws(Rejection) -> RegistryRoute {
        if let ns, !ns.isEmpty { return try parse(path: path, registry: try registry(fromNamespace: ns)) }
        if let prefixed = try prefixedRegistry(path) { return try parse(path: prefixed.path, registry: prefixed.registry) }
        return try parse(path: path, registry: ImageReference.dockerHub)
    }

    /// `("ghcr.io", "/v2/org/app/manifests/1")` for `/v2/ghcr.io/org/app/manifests/1`.
    static func prefixedRegistry(_ path: Substring) throws(Rejection) -> (registry: String, path: Substring)? {
        guard path.hasPrefix("/v2/"), path.utf8.count <= maximumPathLength else { return nil }
        let rest = path.dropFirst(4)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let first = rest[..<slash]
        guard first.contains(".") || first.contains(":") || first == "localhost" else { return nil }
        // At least a repository component, the kind and the reference after the registry.
        guard rest[slash...].split(separator: "/", omittingEmptySubsequences: false).count >= 4 else { return nil }
        return (try registry(fromNamespace: String(first)), Substring("/v2" + rest[slash...]))
    }

    /// The upstream registry a request is for: `?ns=` as containerd sends it,
    /// else Docker Hub (Docker Engine sends no `ns` and mirrors only Docker Hub).
    public static func registry(fromNamespace ns: String?) throws(Rejection) -> String {
        guard let ns, !ns.isEmpty else { return ImageReference.dockerHub }
        var host = ns.lowercased()
        if host == "index.docker.io" || host == "registry-1.docker.io" { host = ImageReference.dockerHub }
        guard ImageReference.isValidRegistry(host) else {
            throw Rejection(code: .nameInvalid, message: "invalid ns parameter", notFound: false)
        }
        return host
    }
}
