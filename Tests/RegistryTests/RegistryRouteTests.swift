import Catalog
import Testing

@testable import Registry

@Suite struct RegistryRouteTests {
    let digest = "sha256:" + String(repeating: "ab", count: 32)

    @Test func parsesThePullAPI() throws {
        #expect(try RegistryRoute.parse(path: "/v2/", registry: "docker.io") == .base)
        guard case .manifest(let tagged) = try RegistryRoute.parse(path: "/v2/library/ubuntu/manifests/22.04", registry: "docker.io") else {
            Issue.record("not a manifest route")
            return
        }
        #expect(tagged.tagKey == "docker.io/library/ubuntu:22.04")
        guard case .manifest(let byDigest) = try RegistryRoute.parse(path: "/v2/a/b/c/manifests/\(digest)", registry: "ghcr.io") else {
            Issue.record("not a manifest route")
            return
        }
        #expect(byDigest.digest?.description == digest)
        #expect(byDigest.repository == "a/b/c")
        guard case .blob(let repo, let d) = try RegistryRoute.parse(path: "/v2/team/app/blobs/\(digest)", registry: "127.0.0.1:5000") else {
            Issue.record("not a blob route")
            return
        }
        #expect(repo.registry == "127.0.0.1:5000")
        #expect(d.description == digest)
    }

    static let hex64 = String(repeating: "a", count: 64)
    static let malformedPaths: [(String, OCIErrorCode)] = {
        var cases: [(String, OCIErrorCode)] = []
        cases.append(("/v2/../etc/passwd/blobs/sha256:00", .nameInvalid))
        cases.append(("/v2/a/../b/manifests/1", .nameInvalid))
        cases.append(("/v2/UPPER/manifests/1", .nameInvalid))
        cases.append(("/v2/a//b/manifests/1", .nameInvalid))
        cases.append(("/v2/a%2e%2e/manifests/1", .nameInvalid))
        cases.append(("/v2/a/blobs/sha512:" + hex64 + hex64, .digestInvalid))
        cases.append(("/v2/a/blobs/sha256:abc", .digestInvalid))
        cases.append(("/v2/a/blobs/sha256:" + hex64.uppercased(), .digestInvalid))
        cases.append(("/v2/a/blobs/sha256:" + hex64 + "a", .digestInvalid))
        cases.append(("/v2/a/blobs/../../x", .nameInvalid))
        cases.append(("/v2/a/blobs/sha256:..%2f..%2fetc", .digestInvalid))
        cases.append(("/v2/a/manifests/bad!tag", .manifestInvalid))
        cases.append(("/v2/" + String(repeating: "a/", count: 300) + "manifests/1", .nameInvalid))
        cases.append(("/v2/a/tags/list", .unsupported))
        cases.append(("/etc/passwd", .unsupported))
        return cases
    }()

    @Test(arguments: malformedPaths)
    func rejectsMalformedPaths(path: String, code: OCIErrorCode) {
        #expect(throws: RegistryRoute.Rejection.self) { try RegistryRoute.parse(path: Substring(path), registry: "docker.io") }
        do {
            _ = try RegistryRoute.parse(path: Substring(path), registry: "docker.io")
        } catch {
            #expect(error.code == code, "\(path)")
        }
    }

    @Test func namespaceParameter() throws {
        #expect(try RegistryRoute.registry(fromNamespace: nil) == "docker.io")
        #expect(try RegistryRoute.registry(fromNamespace: "") == "docker.io")
        #expect(try RegistryRoute.registry(fromNamespace: "registry-1.docker.io") == "docker.io")
        #expect(try RegistryRoute.registry(fromNamespace: "GHCR.io") == "ghcr.io")
        #expect(try RegistryRoute.registry(fromNamespace: "10.0.0.1:5000") == "10.0.0.1:5000")
        #expect(throws: RegistryRoute.Rejection.self) { try RegistryRoute.registry(fromNamespace: "evil/../x") }
        #expect(throws: RegistryRoute.Rejection.self) { try RegistryRoute.registry(fromNamespace: "a b") }
    }

    /// Which registry a request is for, whichever client sent it: one row
    /// per path form (containerd's `?ns=`, Docker Engine's bare Docker Hub
    /// path, containers/image's `/v2/<registry>/<repository>/…`).
    static let clientForms: [(path: String, ns: String?, name: String)] = [
        ("/v2/library/alpine/manifests/3", nil, "docker.io/library/alpine"),  // Docker Engine, registry-mirrors
        ("/v2/team/app/manifests/1", "ghcr.io", "ghcr.io/team/app"),  // containerd
        ("/v2/docker.io/library/alpine/manifests/3", nil, "docker.io/library/alpine"),  // Podman, docker.io
        ("/v2/docker.io/alpine/manifests/3", nil, "docker.io/library/alpine"),
        ("/v2/index.docker.io/library/alpine/manifests/3", nil, "docker.io/library/alpine"),
        ("/v2/ghcr.io/org/app/manifests/1", nil, "ghcr.io/org/app"),  // Podman, another registry
        ("/v2/registry.site:5000/a/b/c/blobs/sha256:" + hex64, nil, "registry.site:5000/a/b/c"),
        ("/v2/localhost/app/manifests/1", nil, "localhost/app"),
        ("/v2/ghcr.io/org/app/manifests/1", "quay.io", "quay.io/ghcr.io/org/app"),  // ns wins: the path is a repository
        ("/v2/my.app/manifests/1", nil, "docker.io/library/my.app"),  // no repository after it: not a registry
        ("/v2/library/my.app/manifests/1", nil, "docker.io/library/my.app"),
    ]

    @Test(arguments: clientForms.indices)
    func registryFromEveryClientForm(_ row: Int) throws {
        let (path, ns, name) = Self.clientForms[row]
        switch try RegistryRoute.parse(path: Substring(path), namespace: ns) {
        case .manifest(let reference): #expect(reference.name == name, "\(path)")
        case .blob(let repository, _): #expect(repository.name == name, "\(path)")
        case .base: Issue.record("\(path) parsed as the base route")
        }
    }

    @Test func prefixedFormsAreParsedAsStrictlyAsTheOthers() throws {
        for path in ["/v2/ghcr.io/../x/manifests/1", "/v2/bad_host.io/app/manifests/1", "/v2/ghcr.io/UP/manifests/1", "/v2/ghcr.io//app/manifests/1"] {
            #expect(throws: RegistryRoute.Rejection.self, "\(path)") { try RegistryRoute.parse(path: Substring(path), namespace: nil) }
        }
        #expect(try RegistryRoute.parse(path: "/v2/", namespace: nil) == .base)
    }

    @Test func ranges() throws {
        #expect(try ResolvedRange.parse("bytes=0-99", length: 1000) == ResolvedRange(first: 0, last: 99))
        #expect(try ResolvedRange.parse("bytes=900-", length: 1000) == ResolvedRange(first: 900, last: 999))
        #expect(try ResolvedRange.parse("bytes=-100", length: 1000) == ResolvedRange(first: 900, last: 999))
        #expect(try ResolvedRange.parse("bytes=990-5000", length: 1000) == ResolvedRange(first: 990, last: 999))
        #expect(ResolvedRange(first: 10, last: 19).contentRange(length: 100) == "bytes 10-19/100")
        for malformed in ["bytes=a-b", "items=0-1", "bytes=0-1,5-6", "bytes=5-1", "bytes=--1", "bytes=", String(repeating: "9", count: 80)] {
            #expect(throws: ResolvedRange.Problem.malformed, "\(malformed)") { try ResolvedRange.parse(malformed, length: 1000) }
        }
        #expect(throws: ResolvedRange.Problem.unsatisfiable) { try ResolvedRange.parse("bytes=1000-", length: 1000) }
        #expect(throws: ResolvedRange.Problem.unsatisfiable) { try ResolvedRange.parse("bytes=-0", length: 1000) }
    }

    @Test func networks() {
        let ten = CIDR("10.0.0.0/8")!
        #expect(ten.contains("10.1.2.3"))
        #expect(!ten.contains("11.0.0.1"))
        #expect(CIDR("fd00::/8")!.contains("fd12::1"))
        #expect(!CIDR("fd00::/8")!.contains("10.0.0.1"))
        #expect(CIDR("192.168.1.7")!.contains("192.168.1.7"))
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("nonsense") == nil)
    }

    @Test func tagPolicy() throws {
        let policy = TagPolicy()
        #expect(policy.allowsTag(try ImageReference("docker.io/library/ubuntu:22.04")))
        #expect(!policy.allowsTag(try ImageReference("docker.io/library/ubuntu:latest")))
        #expect(policy.allowsTag(try ImageReference("docker.io/library/ubuntu@\(digest)")))
        let off = TagPolicy(resolveThroughPeers: false)
        #expect(!off.allowsTag(try ImageReference("ghcr.io/a/b:1")))
        let allow = TagPolicy(filter: try RegistryFilter(mirroredRegistries: ["ghcr.io"]))
        #expect(!allow.allowsTag(try ImageReference("quay.io/a/b:1")))
        #expect(allow.allowsTag(try ImageReference("ghcr.io/a/b:1")))
    }
}
