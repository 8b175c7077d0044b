import Catalog
import Foundation
import Registry
import Testing
import TestSupport

/// The executable's client configuration as an operator runs it: real
/// processes, real files.
@Suite(.serialized, .enabled(if: TestEnvironment.canRun(["curl"] + TestEnvironment.imageTools)))
struct ClientConfigurationProcessTests {
    static func gossipMirror(_ arguments: [String], environment: [String: String] = [:]) async throws -> Subprocess.Output {
        try await Subprocess.run(
            [MirrorProcess.binary] + arguments, environment: MirrorProcess.environment.merging(environment) { $1 }, check: false)
    }

    /// Issue 10, bug 4: `run --configure-containerd --no-resolve-tags` wrote
    /// `capabilities = ["pull", "resolve"]`. The node's own file says `pull`
    /// only, and SIGTERM puts the directory back as it was.
    @Test func runWithoutTagResolutionWritesPullOnlyAndRestoresOnSIGTERM() async throws {
        let dir = try ScratchDirectory()
        let hosts = dir.path + "/certs.d"
        try FileManager.default.createDirectory(atPath: hosts + "/docker.io", withIntermediateDirectories: true)
        try "server = \"https://registry-1.docker.io\"\n[host.\"https://site.cache\"]\n".write(
            toFile: hosts + "/docker.io/hosts.toml", atomically: true, encoding: .utf8)
        let before = DirectorySnapshot(hosts)
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let node = try MirrorProcess(
            name: "pull-only", host: "\(LoopbackCluster.subnet(7)).1", keyFiles: [key], join: [], directory: dir.path,
            extra: ["--configure-containerd", "--no-resolve-tags", "--hosts-dir", hosts, "--mirror-registry", "docker.io", "--mirror-registry", "ghcr.io"])
        defer { kill(node.pid, SIGKILL) }
        let written = await poll(timeout: .seconds(30)) {
            (try? String(contentsOfFile: hosts + "/ghcr.io/hosts.toml", encoding: .utf8)) != nil && node.isRunning
        }
        try #require(written != nil, "no hosts.toml within 30 s:\n\(node.log.suffix(3000))")
        for registry in ["docker.io", "ghcr.io"] {
            let text = try String(contentsOfFile: "\(hosts)/\(registry)/hosts.toml", encoding: .utf8)
            #expect(text.contains(#"capabilities = ["pull"]"#), "\(registry):\n\(text)")
            #expect(!text.contains(#""resolve""#), "\(registry):\n\(text)")
        }
        #expect(try String(contentsOfFile: hosts + "/docker.io/hosts.toml", encoding: .utf8).contains("[host.\"https://site.cache\"]"))
        node.signal(SIGTERM)
        #expect(await node.waitForExit(timeout: .seconds(20)) == 0, "\(node.log.suffix(3000))")
        #expect(DirectorySnapshot(hosts) == before)
    }

    /// Issue 12: a file made for `run` must not break `cleanup` (the systemd
    /// unit's ExecStopPost runs it with the same environment).
    @Test func aRunConfigFileServesCleanup() async throws {
        let dir = try ScratchDirectory()
        let hosts = dir.path + "/certs.d"
        try FileManager.default.createDirectory(atPath: hosts, withIntermediateDirectories: true)
        let before = DirectorySnapshot(hosts)
        let configured = try await Self.gossipMirror(["configure-containerd", "--hosts-dir", hosts, "--registry", "quay.io"])
        #expect(configured.succeeded, "\(configured.stderr)")
        let runFile = dir.path + "/run.yaml"
        try """
            name: node-a
            gossip-addr: 10.0.0.5:7946
            join: [seed.example:7946]
            key-file: [/etc/gossip-mirror/cluster.key]
            configure-containerd: true
            hosts-dir: \(hosts)
            mirror-registry: [quay.io]
            resolve-tags: false

            """.write(toFile: runFile, atomically: true, encoding: .utf8)
        let cleanup = try await Self.gossipMirror(["cleanup"], environment: ["GOSSIP_MIRROR_CONFIG": runFile])
        #expect(cleanup.succeeded, "\(cleanup.stderr)")
        #expect(cleanup.stdout.contains("removed \(hosts)/quay.io/hosts.toml and its directory"), "\(cleanup.stdout)")
        #expect(DirectorySnapshot(hosts) == before)
        // A key no command knows is still refused, naming it.
        try "hosts-dir: \(hosts)\nhosts-dri: /x\n".write(toFile: runFile, atomically: true, encoding: .utf8)
        let typo = try await Self.gossipMirror(["cleanup"], environment: ["GOSSIP_MIRROR_CONFIG": runFile])
        #expect(!typo.succeeded && typo.stderr.contains("hosts-dri"), "\(typo.stderr)")
    }

    /// An OCI layout written with `skopeo copy … oci:DIR:TAG` names its image
    /// by a bare tag: without `--oci-layout-repository` the node says so on
    /// its status page and in `locate`; with it, the image is shared.
    @Test func bareTagLayoutEntriesAreReportedOrNamed() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let image = try await TestImageBuilder(layerSizes: [2048]).write(to: dir.path + "/preload", tag: "1.0")
        let subnet = LoopbackCluster.subnet(8)
        for (index, extra) in [[], ["--oci-layout-repository", "registry.local/preloaded/app"]].enumerated() {
            let node = try MirrorProcess(
                name: "preload-\(index)", host: "\(subnet).\(index + 1)", keyFiles: [key], join: [], directory: dir.path,
                store: ["--store", "oci-layout", "--oci-layout", image.layoutDirectory], extra: extra)
            defer { kill(node.pid, SIGKILL) }
            try #require(await poll(timeout: .seconds(30)) { await node.status()?.catalog?.available == true } != nil, "\(node.log.suffix(2000))")
            let page = try await Subprocess.run(["curl", "-s", "http://\(node.statusAddress)/status"], check: false).stdout
            let locate = try await Self.gossipMirror(["locate", "registry.local/preloaded/app:1.0", "--status-addr", node.statusAddress])
            if extra.isEmpty {
                #expect(page.contains("not shared (1 store entries)") && page.contains("--oci-layout-repository"), "\(page)")
                #expect(locate.stdout.contains("skipped:   1.0 \(image.root.digest)"), "\(locate.stdout)\(locate.stderr)")
                #expect(locate.stdout.contains("local:     no"))
            } else {
                #expect(!page.contains("not shared"), "\(page)")
                #expect(locate.stdout.contains("local:     yes"), "\(locate.stdout)\(locate.stderr)")
            }
        }
    }
}
