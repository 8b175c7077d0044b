import Foundation
import TestSupport

/// Something whose `/status.json` can be read: a host of a namespaced
/// cluster or a node on a loopback address.
protocol StatusSource: Sendable {
    var name: String { get }
    func status() async -> StatusSnapshot?
}

extension ClusterHost: StatusSource {}
extension MirrorProcess: StatusSource {}

/// Polls every host's view until stopped, recording any moment a host does not
/// see every member alive (with `othersAllowed`, members beyond `names` may
/// come and go: only `names` must stay alive), and apart from those, in
/// `losses`, any moment a host sees one of `names` dead, gone or left (a
/// suspicion, which the member refutes, is an anomaly but no loss).
actor MembershipWatch {
    let hosts: [any StatusSource]
    let names: Set<String>
    let othersAllowed: Bool
    private(set) var anomalies: [String] = []
    private(set) var losses: [String] = []
    private(set) var observations = 0
    /// Status requests that got no answer in time (a busy machine, not a lost member).
    private(set) var unanswered = 0
    private var stopped = false

    init(hosts: [any StatusSource], names: Set<String>, othersAllowed: Bool = false) {
        self.hosts = hosts
        self.names = names
        self.othersAllowed = othersAllowed
    }

    func stop() { stopped = true }

    func run() async {
        let started = ContinuousClock.now
        while !stopped {
            for host in hosts {
                guard let status = await host.status() else {
                    unanswered += 1
                    continue
                }
                if othersAllowed ? !names.isSubset(of: status.alive) : status.alive != names {
                    let view = status.members.map { "\($0.name)=\($0.state)" }.sorted().joined(separator: ",")
                    let anomaly = "[\((ContinuousClock.now - started).short)] \(host.name) sees \(view)"
                    anomalies.append(anomaly)
                    let active = Set(status.members.filter { $0.state == "alive" || $0.state == "suspect" }.map(\.name))
                    if !names.isSubset(of: active) { losses.append(anomaly) }
                }
            }
            observations += 1
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
