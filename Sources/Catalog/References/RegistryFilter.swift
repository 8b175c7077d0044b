/// Which images a node advertises: an allowlist of mirrored registries and
/// regular expressions that exclude references (as Spegel's registry filters).
///
/// Patterns are kept as strings and compiled by `matcher()` because
/// `Regex` is not `Sendable`; the catalog compiles once per rebuild pass.
public struct RegistryFilter: Hashable, Sendable {
    /// Normalised registry hosts whose images are advertised (`docker.io`,
    /// `ghcr.io`, `registry.local:5000`); empty means every registry.
    public let mirroredRegistries: Set<String>
    /// An image is not advertised when any of these matches its normalised
    /// reference (`docker.io/library/ubuntu:latest`). A pattern matches
    /// anywhere in the text; anchor it with `^…$` for a whole match.
    public let excludedReferencePatterns: [String]

    /// Admits everything.
    public init() {
        mirroredRegistries = []
        excludedReferencePatterns = []
    }

    /// Throws if a registry is not a valid host or a pattern does not compile,
    /// so bad configuration fails at startup, not silently per image.
    public init(mirroredRegistries: some Sequence<String> = [String](),
                excludedReferencePatterns: [String] = []) throws(ConfigurationError) {
        var registries = Set<String>()
        for registry in mirroredRegistries {
            var host = registry.lowercased()
            if host == "index.docker.io" { host = ImageReference.dockerHub }
            guard ImageReference.isValidRegistry(host) else { throw .invalidRegistry(registry) }
            registries.insert(host)
        }
        for pattern in excludedReferencePatterns {
            do { _ = try Regex(pattern) } catch { throw .invalidPattern(pattern, reason: "\(error)") }
        }
        self.mirroredRegistries = registries
        self.excludedReferencePatterns = excludedReferencePatterns
    }

    /// Whether `reference` is advertised. Compiles the patterns on each call;
    /// for many references use `matcher()`.
    public func admits(_ reference: ImageReference) -> Bool {
        matcher().admits(reference)
    }

    /// The filter with its patterns compiled, for one pass over many images.
    public func matcher() -> Matcher {
        // The patterns compiled in init, so this cannot fail.
        Matcher(mirroredRegistries: mirroredRegistries,
                exclusions: excludedReferencePatterns.compactMap { try? Regex($0) })
    }

    /// A compiled filter; not `Sendable` (neither is `Regex`), so keep it local.
    public struct Matcher {
        let mirroredRegistries: Set<String>
        let exclusions: [Regex<AnyRegexOutput>]

        public func admits(_ reference: ImageReference) -> Bool {
            guard mirroredRegistries.isEmpty || mirroredRegistries.contains(reference.registry) else { return false }
            let text = reference.description
            return !exclusions.contains { (try? $0.firstMatch(in: text)) != nil }
        }
    }

    public enum ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
        case invalidRegistry(String)
        case invalidPattern(String, reason: String)

        public var description: String {
            switch self {
            case .invalidRegistry(let host): "invalid mirrored registry \"\(host)\""
            case .invalidPattern(let pattern, let reason): "invalid registry filter /\(pattern)/: \(reason)"
            }
        }
    }
}
