import Catalog
import Gossip
import Logging
import Registry
import ServiceLifecycle

/// Connects the catalog and the gossip layer: keeps the catalog current,
/// publishes this node's summary (deltas while only additions happen), and
/// keeps the peer directory in step with membership and peers' summaries.
struct SummaryBridge: Service {
    let catalog: LocalCatalog
    let node: GossipNode
    let peers: PeerDirectory
    let logger: Logger

    func run() async throws {
        // Graceful shutdown cancels the loops; there is nothing to undo.
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await catalog.run() }
                group.addTask { await publishSummaries() }
                group.addTask { await followMembership() }
                group.addTask { await refreshPeriodically() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// This node's summary changes, as gossip payloads.
    private func publishSummaries() async {
        var current: [UInt8] = []
        for await update in await catalog.summaryUpdates() {
            switch update {
            case .full(let bytes):
                guard let filter = try? BloomFilter(serialized: bytes) else { continue }
                current = bytes
                await node.publish(SWIM.Payload(generation: filter.generation, bytes: bytes), delta: nil)
                logger.debug("published summary", metadata: ["generation": "\(filter.generation)", "entries": "\(filter.count)"])
            case .delta(let delta):
                // The full payload is the delta applied to the previous one, so
                // both always describe the same generation.
                guard let parsed = try? SummaryDelta(serialized: delta), let full = SummaryDelta.apply(delta, to: current)
                else { continue }
                current = full
                await node.publish(SWIM.Payload(generation: parsed.generation, bytes: full), delta: delta)
                logger.debug("published summary delta", metadata: ["generation": "\(parsed.generation)", "bytes": "\(delta.count)"])
            }
        }
    }

    /// Membership and peers' summaries into the directory the router reads.
    private func followMembership() async {
        await refresh()
        for await event in await node.events() {
            switch event {
            case .payloadChanged(let owner, _):
                if let payload = await node.payload(of: owner), !peers.setSummary(of: owner, bytes: payload.bytes) {
                    logger.warning("undecodable summary from a peer", metadata: ["member": "\(owner)"])
                }
            case .memberChanged, .memberRemoved:
                peers.update(members: await node.members)
            case .nameConflict, .refuted, .implausibleIncarnation, .overCapacity:
                break
            }
        }
    }

    /// Round-trip times change without events: refresh them every 2 s.
    private func refreshPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(2))
            peers.update(members: await node.members)
        }
    }

    private func refresh() async {
        let members = await node.members
        peers.update(members: members)
        for m in members {
            if let payload = await node.payload(of: m.name) { peers.setSummary(of: m.name, bytes: payload.bytes) }
        }
    }
}
