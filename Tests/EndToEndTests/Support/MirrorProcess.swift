import Foundation
import Gossip
import Registry
import TestSupport

/// A `gossip-mirror run` process started by a test on a loopback address,
/// launched (and reaped) by `Subprocess.launch`, its log captured.
final class MirrorProcess: Sendable {
    let name: String
    let host: String
    let statusAddress: String
    let logPath: String
    let process: RunningProcess

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
        return Repository.root + "/.build/debug/gossip-mirror"
    }

    /// The environment without `GOSSIP_MIRROR_*` settings of the machine.
    static var environment: [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GOSSIP_MIRROR_") }
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
        var arguments = [
            Self.binary, "run", "--name", name, "--gossip-addr", "\(host):7946", "--status-addr", statusAddress,
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
        process = try Subprocess.launch(arguments + extra, logPath: logPath, environment: Self.environment)
    }

    var pid: Int32 { process.pid }
    var isRunning: Bool { process.isRunning }
    /// Whether the process ended by a signal (a crash, or our SIGKILL) rather than exiting.
    var endedBySignal: Bool { process.endedBySignal }

    func signal(_ signal: Int32) { process.signal(signal) }

    /// Waits for the process to exit, up to `timeout`; kills it after that.
    /// Returns its exit status.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(10)) async -> Int32 {
        if await !process.waitForExit(deadline: timeout) { await process.kill9() }
        return process.terminationStatus ?? -1
    }

    /// SIGKILL, as a crash would.
    func stop() async {
        await process.kill9()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    var registryAddress: String { "\(host):5000" }

    /// `/locate?ref=…`, or nil if the node does not answer.
    func locate(_ reference: String) async -> LocateReport? {
        await LocateReport.fetch(reference, from: statusAddress)
    }

    /// `/status.json`, or nil if the node does not answer.
    func status() async -> StatusSnapshot? {
        await StatusSnapshot.fetch(from: statusAddress)
    }
}
