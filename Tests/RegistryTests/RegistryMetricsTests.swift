import Testing

@testable import Registry

/// How a request's labels are chosen for `gossip_mirror_registry_request_duration_seconds`.
struct RegistryMetricsTests {
    @Test(arguments: [
        ("/v2/library/nginx/manifests/1.27", "manifest"),
        ("/v2/library/nginx/blobs/sha256:abc", "blob"),
        ("/v2/", "base"),
        ("/v2", "base"),
        ("/v3/whatever", "other"),
        ("/", "other"),
    ])
    func kind(path: String, kind: String) {
        #expect(RegistryMetrics.kind(of: Substring(path)) == kind)
    }

    @Test(arguments: [
        (nil, "docker.io"),
        ("", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("ghcr.io", "ghcr.io"),
        ("GHCR.IO", "ghcr.io"),
        ("registry.example.com:5000", "registry.example.com:5000"),
        ("../../etc", "invalid"),
        ("a b", "invalid"),
    ] as [(String?, String)])
    func registry(ns: String?, label: String) {
        #expect(RegistryMetrics().registryLabel(ns) == label)
    }

    @Test func registryLabelsAreBounded() {
        let metrics = RegistryMetrics()
        for i in 0..<RegistryMetrics.maximumRegistryLabels {
            #expect(metrics.registryLabel("r\(i).example.com") == "r\(i).example.com")
        }
        #expect(metrics.registryLabel("one-more.example.com") == "other")
        #expect(metrics.registryLabel("r0.example.com") == "r0.example.com", "a known registry keeps its label")
    }
}
