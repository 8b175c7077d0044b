import Foundation
import TestSupport

/// A network namespace joined to the host by a veth pair: a second "host"
/// whose requests do not come from loopback. Removed by `remove()`.
struct NetworkNamespace: Sendable {
    let name: String
    let hostAddress: String
    let namespaceAddress: String
    private let hostInterface: String

    static func create() async throws -> NetworkNamespace {
        let id = Int.random(in: 1...250)
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        let ns = NetworkNamespace(
            name: "gmt-\(tag)", hostAddress: "10.231.\(id).1", namespaceAddress: "10.231.\(id).2",
            hostInterface: "gmh\(tag)")
        let peer = "gmn\(tag)"
        do {
            for command in [
                ["ip", "netns", "add", ns.name],
                ["ip", "link", "add", ns.hostInterface, "type", "veth", "peer", "name", peer],
                ["ip", "link", "set", peer, "netns", ns.name],
                ["ip", "addr", "add", "\(ns.hostAddress)/24", "dev", ns.hostInterface],
                ["ip", "link", "set", ns.hostInterface, "up"],
                ["ip", "-n", ns.name, "addr", "add", "\(ns.namespaceAddress)/24", "dev", peer],
                ["ip", "-n", ns.name, "link", "set", peer, "up"],
                ["ip", "-n", ns.name, "link", "set", "lo", "up"],
            ] {
                try await Subprocess.run(command, deadline: .seconds(10))
            }
        } catch {
            await ns.remove()
            throw error
        }
        return ns
    }

    /// Runs `body` with a new namespace and removes the namespace afterwards,
    /// whether `body` returns or throws. (A `defer { Task { … } }` does not
    /// do: the test process may exit before that task runs.)
    static func with<Result: Sendable>(_ body: (NetworkNamespace) async throws -> Result) async throws -> Result {
        let ns = try await create()
        do {
            let result = try await body(ns)
            await ns.remove()
            return result
        } catch {
            await ns.remove()
            throw error
        }
    }

    /// Runs a command inside the namespace.
    @discardableResult
    func run(_ arguments: [String]) async throws -> Subprocess.Output {
        try await Subprocess.run(["ip", "netns", "exec", name] + arguments, deadline: .seconds(30), check: false)
    }

    func remove() async {
        _ = try? await Subprocess.run(["ip", "link", "del", hostInterface], deadline: .seconds(10), check: false)
        _ = try? await Subprocess.run(["ip", "netns", "del", name], deadline: .seconds(10), check: false)
    }
}
