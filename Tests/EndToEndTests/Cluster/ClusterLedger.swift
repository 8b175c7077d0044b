import Foundation
import TestSupport

/// What a cluster created on this machine, written down as it is created so
/// that teardown removes exactly that, newest first: processes (SIGTERM, then
/// SIGKILL), network namespaces (with anything still running in them), links
/// (the bridge and the host ends of veth pairs), and the work directory.
///
/// The record is a file (`resources`, one `KIND NAME` per line) next to
/// `owner` (the pid of the test process); `scripts/cluster/network.sh`
/// appends the namespaces and links it makes and removes everything recorded
/// (for these tests and for the demo alike). A run killed before its teardown
/// (SIGKILL, a CI timeout) leaves both behind; `sweepStale` removes such
/// leftovers at the next start.
/// Nothing that is not in a ledger is ever touched: not the machine's
/// containerd, not its nftables ruleset, not other tests' namespaces.
final class ClusterLedger: @unchecked Sendable {
    // @unchecked: `torn` is guarded by `lock`; the file is appended under it.
    static let prefix = "gm-cluster-test"

    /// The work directory, kept until teardown removes it.
    private let scratch: ScratchDirectory
    var directory: String { scratch.path }
    private let lock = NSLock()
    private var torn = false

    init() throws {
        scratch = try ScratchDirectory(Self.prefix)
        try "\(getpid())\n".write(toFile: directory + "/owner", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: directory + "/resources", contents: nil)
    }

    enum Kind: String { case pid, netns, link }

    func record(_ kind: Kind, _ name: String) {
        lock.withLock {
            guard let handle = FileHandle(forWritingAtPath: directory + "/resources") else { return }
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data("\(kind.rawValue) \(name)\n".utf8))
        }
    }

    /// Removes everything recorded; a second call does nothing.
    func tearDown() async {
        let first = lock.withLock {
            defer { torn = true }
            return !torn
        }
        guard first else { return }
        await Self.tearDown(directory: directory)
    }

    /// `scripts/cluster/network.sh teardown`: processes whose command line
    /// names the directory (SIGTERM, then SIGKILL), namespaces with whatever
    /// still runs in them, links, then the directory; what the demo's cleanup
    /// does too.
    static func tearDown(directory: String) async {
        _ = try? await Subprocess.run(["bash", ClusterNetwork.script, "teardown", directory], deadline: .seconds(60), check: false)
    }

    /// Tears down the ledgers of earlier runs whose owner process is gone.
    static func sweepStale() async {
        if let swept = try? await Subprocess.run(
            ["bash", ClusterNetwork.script, "sweep", prefix + "-"], deadline: .seconds(120), check: false)
        {
            for line in swept.stderr.split(separator: "\n") { print("cluster: \(line)") }
        }
    }
}
