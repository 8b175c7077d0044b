import Foundation
import TestSupport

/// Polls every host's view until stopped, recording any moment a host does not
/// see every member alive.
actor MembershipWatch {
    let hosts: [ClusterHost]
    let names: Set<String>
    private(set) var anomalies: [String] = []
    private(set) var observations = 0
    /// Status requests that got no answer in time (a busy machine, not a lost member).
    private(set) var unanswered = 0
    private var stopped = false

    init(hosts: [ClusterHost], names: Set<String>) {
        self.hosts = hosts
        self.names = names
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
                if status.alive != names {
                    let view = status.members.map { "\($0.name)=\($0.state)" }.sorted().joined(separator: ",")
                    anomalies.append("[\((ContinuousClock.now - started).short)] \(host.name) sees \(view)")
                }
            }
            observations += 1
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
