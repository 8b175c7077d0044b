import Foundation
import Gossip
import Registry

/// A `gossip-mirror run` process started by a test, with its log captured.
final class MirrorProcess: Sendable {
    let name: String
    let host: String
    let statusAddress: String
    let logPath: String
    private let process: Process

    /// The built `gossip-mirror` binary: `GOSSIP_MIRROR_BIN`, or the one next
    /// to the test bundle (SwiftPM puts executables and tests in one folder).
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["GOSSIP_MIRROR_BIN"] { return path }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("gossip-mirror").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/debug/gossip-mirror").path
    }

    /// Starts `gossip-mirror run` bound to `host` (gossip on 7946, status on 9090).
    /// Without `store`, the node serves an empty OCI layout of its own.
    init(
        name: String, host: String, keyFiles: [String], join: [String], directory: String, store: [String]? = nil,
        extra: [String] = []
    ) throws {
        self.name = name
        self.host = host
        self.statusAddress = "\(host):9090"
        self.logPath = "\(directory)/\(name).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        var arguments = [
            "run", "--name", name, "--gossip-addr", "\(host):7946", "--status-addr", statusAddress,
            "--registry-addr", "\(host):5000", "--log-level", "debug",
        ]
        if let store {
            arguments += store
        } else {
            let layout = "\(directory)/\(name)-layout"
            try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
            arguments += ["--store", "oci-layout", "--oci-layout", layout]
        }
        for k in keyFiles { arguments += ["--key-file", k] }
        for j in join { arguments += ["--join", j] }
        process.arguments = arguments + extra
        process.standardOutput = log
        process.standardError = log
        var environment = ProcessInfo.processInfo.environment
        environment = environment.filter { !$0.key.hasPrefix("GOSSIP_MIRROR_") }
        process.environment = environment
        try process.run()
        self.process = process
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    /// Whether the process ended by a signal (a crash, or our SIGKILL) rather than exiting.
    var endedBySignal: Bool { !process.isRunning && process.terminationReason == .uncaughtSignal }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit, up to `timeout`; kills it after that.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(10)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    func stop() async {
        if process.isRunning {
            signal(SIGKILL)
            await waitForExit()
        }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    var registryAddress: String { "\(host):5000" }

    /// `/locate?ref=…`, or nil if the node does not answer.
    func locate(_ reference: String) async -> LocateReport? {
        let escaped = reference.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? reference
        guard let url = URL(string: "http://\(statusAddress)/locate?ref=\(escaped)") else { return nil }
        return await HTTPGet.json(url, as: LocateReport.self)
    }

    /// `/status.json`, or nil if the node does not answer.
    func status() async -> StatusSnapshot? {
        guard let url = URL(string: "http://\(statusAddress)/status.json") else { return nil }
        return await HTTPGet.json(url, as: StatusSnapshot.self)
    }
}

/// The parts of `/status.json` the tests read.
struct StatusSnapshot: Decodable, Sendable {
    struct Member: Decodable, Sendable {
        var name: String
        var address: String
        var state: String
        var incarnation: UInt64
    }

    struct Catalog: Decodable, Sendable {
        var available: Bool
        var blobs: Int
        var tags: Int
    }

    var name: String
    var keyIDs: [UInt8]?
    var members: [Member]
    var gossip: GossipStatistics
    var catalog: Catalog?
    var registry: RegistryMetrics.Counts?
    var coldPull: ColdPullStatus?

    func state(of name: String) -> String? { members.first { $0.name == name }?.state }
    var alive: Set<String> { Set(members.filter { $0.state == "alive" }.map(\.name)) }
    var counts: RegistryMetrics.Counts { registry ?? RegistryMetrics.Counts() }
}

/// `coldPull` in `/status.json`.
struct ColdPullStatus: Decodable, Sendable {
    var enabled: Bool
    /// Digests this node's containerd fetches from the upstream under a claim.
    var fetching: [String]
    var counts: ColdPullMetrics.Counts
    var claims: [ClaimReport]
}

extension RegistryMetrics.Counts {
    func requests(_ outcome: String) -> Int { requests[outcome, default: 0] }
}
