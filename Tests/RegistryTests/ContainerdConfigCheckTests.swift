import Foundation
import Testing

@testable import Registry

/// `configure-containerd` reads containerd's config.toml (never writes it)
/// and names the key of its config version when the hosts directory is not
/// configured. One row per config shape.
@Suite struct ContainerdConfigCheckTests {
    static let rows: [(name: String, config: String, notes: [String])] = [
        ("version 2, configured", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d/\"\n", []),
        (
            "version 2, mirrors instead", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n  endpoint = [\"https://x\"]\n",
            ["config version 2) has no config_path", "[plugins.\"io.containerd.grpc.v1.cri\".registry] config_path = \"/etc/containerd/certs.d\""]
        ),
        ("version 1 (no version key)", "[plugins.cri.registry]\nconfig_path = \"/etc/containerd/certs.d\"\n", []),
        ("version 1, other path", "[plugins.cri.registry]\nconfig_path = \"/other\"\n", ["has config_path = \"/other\"", "[plugins.cri.registry]"]),
        (
            "version 3, configured, one directory",
            "version = 3\n[plugins.'io.containerd.cri.v1.images'.registry]\n  config_path = '/etc/containerd/certs.d'\n", []
        ),
        (
            "version 3, dotted keys", "version = 3\n[plugins]\n'io.containerd.cri.v1.images'.registry.config_path = '/etc/containerd/certs.d'\n", []
        ),
        (
            "version 3 given a version 2 key", "version = 3\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n",
            ["config version 3) has no config_path", "[plugins.'io.containerd.cri.v1.images'.registry] config_path"]
        ),
        (
            "version 3, a list, transfer service",
            "version = 3\n[plugins.'io.containerd.cri.v1.images'.registry]\n  config_path = '/etc/containerd/certs.d:/etc/docker/certs.d'\n",
            ["transfer service", "use_local_image_pull = true"]
        ),
        (
            "version 3, a list, local pull",
            "version = 3\n[plugins.'io.containerd.cri.v1.images']\n  use_local_image_pull = true\n[plugins.'io.containerd.cri.v1.images'.registry]\n  config_path = '/etc/containerd/certs.d:/etc/docker/certs.d'\n",
            []
        ),
        ("imports", "version = 2\nimports = [\"/etc/containerd/config.d/*.toml\"]\n", ["(or in a file it imports)"]),
    ]

    @Test(arguments: rows.indices)
    func notes(_ row: Int) throws {
        let (name, config, expected) = Self.rows[row]
        let root = try TemporaryHostsDirectory()
        try root.write(config, to: "config.toml")
        let notes = ContainerdConfigCheck.notes(configFile: root.url("config.toml"), hostsDirectory: "/etc/containerd/certs.d")
        if expected.isEmpty {
            #expect(notes.isEmpty, "\(name): \(notes)")
        } else {
            for part in expected { #expect(notes.contains { $0.contains(part) }, "\(name): \(part) in \(notes)") }
        }
    }

    @Test func aMissingOrUnreadableConfigSaysNothing() throws {
        let root = try TemporaryHostsDirectory()
        #expect(ContainerdConfigCheck.notes(configFile: root.url("none.toml"), hostsDirectory: "/etc/containerd/certs.d").isEmpty)
        try root.write("version = = 3\n", to: "bad.toml")
        #expect(ContainerdConfigCheck.notes(configFile: root.url("bad.toml"), hostsDirectory: "/etc/containerd/certs.d").isEmpty)
    }
}
