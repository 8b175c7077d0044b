import Gossip
import ServiceLifecycle

/// Runs the gossip node; on graceful shutdown (SIGTERM) it leaves the
/// cluster, so peers mark it `left` at once instead of suspecting it.
struct MembershipService: Service {
    let node: GossipNode

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await node.run() }
            group.addTask {
                // Returns when graceful shutdown begins (or throws on cancellation).
                try await gracefulShutdown()
                await node.leave()
            }
            try await group.next()
            group.cancelAll()
        }
    }
}
