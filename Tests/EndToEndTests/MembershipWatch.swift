import Foundation
import TestSupport

/// A node whose `/status.json` a test can read: a host of a network-namespace
/// `Cluster`, or a loopback `MirrorProcess`.
protocol StatusSource: Sendable {
    var name: String { get }
    func status() async -> StatusSnapshot?
}

extension ClusterHost: StatusSource {}
extension MirrorProcess: StatusSource {}

/// Polls every host's view until stopped, recording any moment a host does not
/// see every member alive.
actor MembershipWatch {
    let hosts: [any StatusSource]
    let names: Set<String>
    /// Members that may be seen in any state (or not at all): the one a
    /// fault test stops, or one that joins during the watch.
    let exempt: Set<String>
    private(set) var anomalies: [String] = []
    /// The anomalies in which a member outside `exempt` was dead, left or
    /// missing (not merely suspect): false declarations of death.
    private(set) var deaths: [String] = []
    private(set) var observations = 0
    /// Status requests that got no answer in time (a busy machine, not a lost member).
    private(set) var unanswered = 0
    private var stopped = false

    init(hosts: [any StatusSource], names: Set<String>, exempt: Set<String> = []) {
        self.hosts = hosts
        self.names = names
        self.exempt = exempt
    }

    func stop() { stopped = true }

    func run() async {
        let started = ContinuousClock.now
        let healthy = names.subtracting(exempt)
        while !stopped {
            for host in hosts {
                guard let status = await host.status() else {
                    unanswered += 1
                    continue
                }
                let alive = status.alive.subtracting(exempt)
                if alive != healthy {
                    let view = status.members.map { "\($0.name)=\($0.state)" }.sorted().joined(separator: ",")
                    let entry = "[\((ContinuousClock.now - started).short)] \(host.name) sees \(view)"
                    anomalies.append(entry)
                    let gone = healthy.filter { name in !status.members.contains { $0.name == name && ["alive", "suspect"].contains($0.state) } }
                    if !gone.isEmpty { deaths.append(entry) }
                }
            }
            observations += 1
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
