import Testing
@testable import Catalog

@Suite struct ImageReferenceTests {
    static let hex = String(repeating: "0123456789abcdef", count: 4)

    @Test(arguments: [
        ("ubuntu", "docker.io/library/ubuntu:latest"),
        ("ubuntu:22.04", "docker.io/library/ubuntu:22.04"),
        ("library/ubuntu", "docker.io/library/ubuntu:latest"),
        ("index.docker.io/ubuntu", "docker.io/library/ubuntu:latest"),
        ("index.docker.io/library/ubuntu:20.04", "docker.io/library/ubuntu:20.04"),
        ("docker.io/bitnami/redis:7.2", "docker.io/bitnami/redis:7.2"),
        ("foo/bar", "docker.io/foo/bar:latest"),
        ("ghcr.io/owner/repo/sub:v1.2.3", "ghcr.io/owner/repo/sub:v1.2.3"),
        ("localhost/app", "localhost/app:latest"),
        ("localhost:5000/foo/bar:1", "localhost:5000/foo/bar:1"),
        ("127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"),
        ("[::1]:5000/app:1", "[::1]:5000/app:1"),
        ("Registry.Example.COM/app:TAG_1", "registry.example.com/app:TAG_1"),
        ("UPPER/app", "upper/app:latest"),  // upper case marks a host, as in Docker
        ("registry.local:5000/a.b_c__d---e/f0:_x.Y-z", "registry.local:5000/a.b_c__d---e/f0:_x.Y-z"),
        ("quay.io/app@sha256:" + hex, "quay.io/app@sha256:" + hex),
        ("quay.io/app:1.0@sha256:" + hex, "quay.io/app:1.0@sha256:" + hex),
    ])
    func normalises(input: String, expected: String) throws {
        #expect(try ImageReference(input).description == expected)
    }

    @Test(arguments: [
        "", "Ubuntu", "library/Ubuntu", "ghcr.io/Owner/app", "docker.io/Library/ubuntu", "ubuntu:", ":tag", "/abs", "app/", "a//b",
        "a/../b", "../etc/passwd", "registry.local/../../etc/passwd", "a/./b", "a..b", ".a", "a.", "-a", "a-",
        "a___b", "a_-b", "a b", "a%2fb", "ubüntu", "app\n", "a/b?c", "app:-tag", "app:ta/g",
        "app:" + String(repeating: "t", count: 129), String(repeating: "a", count: 256),
        "registry.local/" + String(repeating: "a", count: 241), "host:99999/app", "host:0/app", "host:/app",
        "-host.com/app", "ho_st.com/app", "[::1/app", "app@sha256:short", "app@sha512:" + hex,
        "app@sha256:" + hex.uppercased(), "app@@sha256:" + hex, "app@", String(repeating: "a/", count: 400) + "b",
    ])
    func rejects(input: String) {
        #expect(throws: ImageReference.ParseError.self, "\(input.debugDescription)") { try ImageReference(input) }
    }

    @Test func componentsAndKeys() throws {
        let reference = try ImageReference("ghcr.io/owner/app:1.0")
        #expect(reference.registry == "ghcr.io")
        #expect(reference.repository == "owner/app")
        #expect(reference.tag == "1.0")
        #expect(reference.digest == nil)
        #expect(reference.name == "ghcr.io/owner/app")
        #expect(reference.tagKey == "ghcr.io/owner/app:1.0")
        #expect(try ImageReference("ghcr.io/owner/app@sha256:" + Self.hex).tagKey == nil)
    }

    @Test func limitsAreInclusive() throws {
        // 255 characters of registry/repository and a 128-character tag are valid.
        let repository = String(repeating: "a", count: 255 - "registry.local/".count)
        #expect(try ImageReference("registry.local/\(repository):" + String(repeating: "t", count: 128)).name.count == 255)
    }

    @Test func registryFrontComponents() throws {
        // What the registry front receives: ns=index.docker.io, name "ubuntu", reference "latest".
        let reference = try ImageReference(registry: "index.docker.io", repository: "ubuntu", tag: "latest")
        #expect(reference.tagKey == "docker.io/library/ubuntu:latest")
        let byDigest = try ImageReference(registry: "ghcr.io", repository: "a/b", digest: Digest("sha256:" + Self.hex))
        #expect(byDigest.description == "ghcr.io/a/b@sha256:" + Self.hex)
        #expect(throws: ImageReference.ParseError.invalidRegistry("")) { try ImageReference(registry: "", repository: "a") }
        #expect(throws: ImageReference.ParseError.invalidRepository("../a")) { try ImageReference(registry: "ghcr.io", repository: "../a") }
        #expect(throws: ImageReference.ParseError.invalidTag("..")) { try ImageReference(registry: "ghcr.io", repository: "a", tag: "..") }
    }

    /// Names as image stores hold them: the first component is the registry,
    /// whatever it looks like (containerd's grammar), and no tag is added.
    @Test(arguments: [
        ("myhost/app:1", "myhost", "app", "1"),
        ("Myhost/app:1", "myhost", "app", "1"),
        ("myhost:5000/team/app:v2", "myhost:5000", "team/app", "v2"),
        ("docker.io/ubuntu:22.04", "docker.io", "library/ubuntu", "22.04"),
        ("index.docker.io/library/ubuntu:20.04", "docker.io", "library/ubuntu", "20.04"),
        ("[::1]:5000/app:1", "[::1]:5000", "app", "1"),
        ("registry.local/app", "registry.local", "app", nil),
    ] as [(String, String, String, String?)])
    func qualified(input: String, registry: String, repository: String, tag: String?) throws {
        let reference = try ImageReference(qualified: input)
        #expect(reference.registry == registry)
        #expect(reference.repository == repository)
        #expect(reference.tag == tag)
    }

    @Test(arguments: ["ubuntu", "ubuntu:22.04", "sha256:" + hex, "/app", "myhost/", "myhost/App", "\u{212A}8s.io/app:1", ""])
    func qualifiedRejects(input: String) {
        #expect(throws: ImageReference.ParseError.self, "\(input.debugDescription)") { try ImageReference(qualified: input) }
    }

    /// `description` reads back as the same reference, also for registries
    /// the familiar grammar cannot name: `?ns=myhost` gives the tag key
    /// `myhost/app:1`, which a store's image of that name must match.
    @Test(arguments: [
        try! ImageReference(registry: "myhost", repository: "app", tag: "1"),
        try! ImageReference(registry: "MyHost", repository: "team/app", tag: "v1"),
        try! ImageReference("UPPER/app"),
        try! ImageReference("ubuntu"),
        try! ImageReference("localhost:5000/foo/bar:1"),
        try! ImageReference("quay.io/app:1.0@sha256:" + hex),
        try! ImageReference(registry: "ghcr.io", repository: "a/b"),
    ])
    func descriptionReadsBack(reference: ImageReference) throws {
        #expect(try ImageReference(qualified: reference.description) == reference)
        if let tagKey = reference.tagKey, reference.digest == nil { #expect(try ImageReference(qualified: tagKey) == reference) }
    }
}

@Suite struct RegistryFilterTests {
    @Test func emptyFilterAdmitsEverything() throws {
        #expect(RegistryFilter().admits(try ImageReference("ubuntu")))
        #expect(RegistryFilter().admits(try ImageReference("registry.local:5000/x/y:z")))
    }

    @Test func allowlistOfRegistries() throws {
        let filter = try RegistryFilter(mirroredRegistries: ["index.docker.io", "GHCR.io"])
        #expect(filter.mirroredRegistries == ["docker.io", "ghcr.io"])
        #expect(filter.admits(try ImageReference("ubuntu")))
        #expect(filter.admits(try ImageReference("ghcr.io/a/b:1")))
        #expect(!filter.admits(try ImageReference("quay.io/a/b:1")))
    }

    @Test func exclusionPatternsMatchTheNormalisedReference() throws {
        let filter = try RegistryFilter(excludedReferencePatterns: [":latest$", "^docker\\.io/library/internal-"])
        #expect(!filter.admits(try ImageReference("ubuntu")))  // docker.io/library/ubuntu:latest
        #expect(filter.admits(try ImageReference("ubuntu:22.04")))
        #expect(!filter.admits(try ImageReference("internal-tool:1")))
        #expect(filter.admits(try ImageReference("ghcr.io/internal-tool:1")))
    }

    @Test func badConfigurationFailsEarly() {
        #expect(throws: RegistryFilter.ConfigurationError.self) { try RegistryFilter(excludedReferencePatterns: ["(unclosed"]) }
        #expect(throws: RegistryFilter.ConfigurationError.invalidRegistry("not a host")) {
            try RegistryFilter(mirroredRegistries: ["not a host"])
        }
    }
}
