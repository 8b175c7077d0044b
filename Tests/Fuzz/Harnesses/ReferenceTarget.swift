import Catalog
import Registry

/// Image references and the registry route: every parsed reference prints
/// back to itself.
///
/// Mode 0 parses the input as a user would write it (`ImageReference(_:)`),
/// mode 1 as an image store holds it (`ImageReference(qualified:)`), mode 2
/// as a registry request (`?ns=` value, a newline, then the path), mode 3 as
/// a digest (`Digest`, the only form that reaches a file path). Properties:
/// - `ImageReference(qualified: r.description) == r` for every parsed `r`,
///   and printing is idempotent;
/// - the familiar grammar reads `r.description` back to `r` whenever it can
///   name `r`'s registry at all (a dot, a colon, `localhost` or Docker Hub);
/// - a tag's key is the reference printed without digest, and reads back;
/// - a parsed route printed as a request path (with `ns=` its registry)
///   parses to the same route;
/// - a digest parses only from its one spelling (`sha256:` and 64
///   lower-case hex digits), which it prints back.
extension FuzzTarget {
    static let reference = FuzzTarget(
        name: "reference",
        summary: "ImageReference (familiar and qualified), RegistryRoute and Digest parsing; print/parse round trips",
        seeds: ReferenceFuzzing.seeds,
        run: ReferenceFuzzing.run)
}

enum ReferenceFuzzing {
    static func run(_ bytes: [UInt8]) throws(PropertyViolation) {
        guard let mode = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        switch mode % 4 {
        case 0:
            guard let reference = try? ImageReference(text) else { return }
            try checkPrinting(reference)
            if familiarGrammarNames(reference.registry) {
                try require((try? ImageReference(reference.description)) == reference,
                        "\(text.debugDescription) prints as \(reference.description), which the familiar grammar reads otherwise")
            }
        case 1:
            guard let reference = try? ImageReference(qualified: text) else { return }
            try checkPrinting(reference)
        case 3:
            guard let digest = Digest(text) else { return }
            try require(digest.description == text, "digest \(text.debugDescription) prints as \(digest)")
            try require(Digest(sha256: digest.bytes) == digest && digest.bytes.count == 32, "digest bytes of \(digest)")
        default:
            let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let registry = try? RegistryRoute.registry(fromNamespace: String(parts[0])),
                let route = try? RegistryRoute.parse(path: parts[1], registry: registry)
            else { return }
            try checkRoute(route, registry: registry)
        }
    }

    /// Whether `registry/x` in the familiar grammar names `registry`.
    static func familiarGrammarNames(_ registry: String) -> Bool {
        registry == ImageReference.dockerHub || registry == "localhost" || registry.contains(".") || registry.contains(":")
    }

    private static func checkPrinting(_ reference: ImageReference) throws(PropertyViolation) {
        let printed = reference.description
        let reparsed: ImageReference
        do { reparsed = try ImageReference(qualified: printed) } catch {
            throw PropertyViolation("\(printed) (printed) does not parse as qualified: \(error)")
        }
        try require(reparsed == reference, "\(printed) reads back as \(reparsed.registry) / \(reparsed.repository)")
        try require(reparsed.description == printed, "printing is not idempotent: \(printed) then \(reparsed.description)")
        if let tagKey = reference.tagKey {
            try require(tagKey == reference.name + ":" + reference.tag!, "tag key \(tagKey)")
            let tagged = try? ImageReference(qualified: tagKey)
            try require(tagged?.tag == reference.tag && tagged?.name == reference.name && tagged?.digest == nil,
                    "tag key \(tagKey) does not read back to its tag")
        }
    }

    private static func checkRoute(_ route: RegistryRoute, registry: String) throws(PropertyViolation) {
        let path: String
        switch route {
        case .base:
            return
        case .manifest(let reference):
            try checkPrinting(reference)
            try require(reference.registry == registry, "route for \(registry) has registry \(reference.registry)")
            path = "/v2/\(reference.repository)/manifests/" + (reference.digest?.description ?? reference.tag ?? "")
        case .blob(let repository, let digest):
            try checkPrinting(repository)
            path = "/v2/\(repository.repository)/blobs/\(digest)"
        }
        let again: RegistryRoute
        do { again = try RegistryRoute.parse(path: Substring(path), registry: registry) } catch {
            throw PropertyViolation("\(path) (printed from a route) is rejected: \(error.message)")
        }
        try require(again == route, "\(path) parses to another route")
    }

    static func seeds() -> [[UInt8]] {
        let hex = String(repeating: "0123456789abcdef", count: 4)
        let references = [
            "ubuntu", "ubuntu:22.04", "library/ubuntu", "index.docker.io/ubuntu", "foo/bar", "ghcr.io/owner/repo/sub:v1.2.3",
            "localhost/app", "localhost:5000/foo/bar:1", "127.0.0.1:5000/app", "[::1]:5000/app:1", "Registry.Example.COM/app:TAG_1",
            "UPPER/app", "myhost/app:1", "registry.local:5000/a.b_c__d---e/f0:_x.Y-z", "quay.io/app@sha256:" + hex,
            "quay.io/app:1.0@sha256:" + hex, "sha256:" + hex,
        ]
        let routes = [
            "docker.io\n/v2/library/ubuntu/manifests/latest", "myhost\n/v2/app/manifests/1", "ghcr.io\n/v2/a/b/blobs/sha256:" + hex,
            "\n/v2/", "registry-1.docker.io\n/v2/ubuntu/manifests/sha256:" + hex, "Myhost:5000\n/v2/team/app/manifests/v1",
        ]
        let digests = ["sha256:" + hex, "sha256:" + hex.uppercased(), "sha512:" + hex + hex, "sha256:" + hex.dropLast() + "g"]
        return references.flatMap { [[0] + Array($0.utf8), [1] + Array($0.utf8)] } + routes.map { [2] + Array($0.utf8) }
            + digests.map { [3] + Array($0.utf8) }
    }
}
