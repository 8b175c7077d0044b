import Catalog
import Gossip
import Registry
import ServiceLifecycle

/// Keeps cold pulls (`ColdPull`) in step with the membership, and puts this
/// node's fetches into its gossiped metadata.
struct ColdPullService: Service {
    let coldPull: ColdPull
    let node: GossipNode

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await followMembership() }
                group.addTask { await refreshPeriodically() }
                await group.next()
                group.cancelAll()
            }
        }
        await coldPull.stop()
    }

    /// Membership changes (and other members' metadata, which rides on them).
    private func followMembership() async {
        coldPull.update(members: await node.members)
        for await event in await node.events() {
            switch event {
            case .memberChanged, .memberRemoved:
                coldPull.update(members: await node.members)
            case .payloadChanged, .nameConflict, .refuted, .implausibleIncarnation, .overCapacity:
                break
            }
        }
    }

    /// States change without events now and then (a suspect refuting): every 2 s.
    private func refreshPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(2))
            coldPull.update(members: await node.members)
        }
    }

    /// Announces `fetching` in this node's metadata (`FetchAnnouncement`),
    /// keeping every other key. The oldest entries give way when the whole
    /// would not be what SWIM carries (`WireCodec.validate(metadata:)`: at
    /// most `maximumMetadataSize` bytes): an announcement is a hint, the
    /// other keys are not.
    static func announce(_ fetching: [Digest], on node: GossipNode) async {
        let current = await node.myself.metadata
        var metadata = current
        var announced = fetching.suffix(FetchAnnouncement.maximumEntries)
        while true {
            metadata[FetchAnnouncement.metadataKey] = FetchAnnouncement.encode(Array(announced))
            if (try? WireCodec.validate(metadata: metadata)) != nil { break }
            guard !announced.isEmpty else { return }
            announced = announced.dropFirst()
        }
        guard metadata != current else { return }
        // Cannot fail: the whole was checked against the size limit above,
        // and the other keys were accepted before.
        try? await node.updateMetadata(metadata)
    }
}
