import Foundation
import TestSupport
import Testing
@testable import Catalog

@Suite struct LocalCatalogTests {
    /// A layout with two images, `app:1` and `tool:2`, sharing nothing.
    struct TwoImages {
        let directory: ScratchDirectory
        let layout: OCILayoutWriter
        let app: (manifest: Descriptor, blobs: [Descriptor])
        let tool: (manifest: Descriptor, blobs: [Descriptor])

        init(seed: UInt64) throws {
            directory = try ScratchDirectory("catalog")
            layout = try OCILayoutWriter(root: directory.path)
            var rng = SplitMix64(seed: seed)
            app = try layout.makeImage(layerSizes: [1000, 2000], architecture: "amd64", write: true, rng: &rng)
            tool = try layout.makeImage(layerSizes: [3000], architecture: "amd64", write: true, rng: &rng)
        }

        func writeIndex(app includeApp: Bool = true, tool includeTool: Bool = true) throws {
            var entries: [(Descriptor, annotations: [String: String])] = []
            if includeApp { entries.append((app.manifest, [OCILayoutStore.refNameAnnotation: "registry.local/app:1"])) }
            if includeTool { entries.append((tool.manifest, [OCILayoutStore.refNameAnnotation: "registry.local/tool:2"])) }
            try layout.writeIndex(entries)
        }

        func store(poll: Duration = .seconds(2)) throws -> OCILayoutStore {
            try OCILayoutStore(path: directory.path, configuration: .init(pollInterval: poll))
        }
    }

    @Test func removingAnImageWithdrawsItsDigestsWithAFullUpdate() async throws {
        let fixture = try TwoImages(seed: 61)
        defer { fixture.directory.remove() }
        try fixture.writeIndex()
        let catalog = LocalCatalog(store: try fixture.store(poll: .milliseconds(25)),
                                   configuration: .init(relistInterval: .seconds(3600)))
        let updates = await EventRecorder.recording(await catalog.summaryUpdates())
        let running = Task { await catalog.run() }
        defer { running.cancel() }

        // First the current (empty) summary, then the first scan's additions as a delta.
        let initial = try await updates.next(within: .seconds(5))
        guard case .full(let emptyBytes) = initial else { Issue.record("first update must be full"); return }
        let added = try await updates.next(within: .seconds(5))
        guard case .delta(let deltaBytes) = added else { Issue.record("additions must be a delta, got \(added)"); return }
        let afterScan = try BloomFilter(serialized: #require(SummaryDelta.apply(deltaBytes, to: emptyBytes)))
        #expect(afterScan.serialized() == (await catalog.summary))
        #expect(afterScan.count == 4 + 3 + 2)  // app: manifest, config, 2 layers; tool: 3 blobs; two tags
        #expect(await catalog.lookup(fixture.tool.blobs[2].digest) == fixture.tool.blobs[2])

        // Rewrite index.json without tool:2; the poller notices and the catalog rebuilds.
        try fixture.writeIndex(tool: false)
        let removal = try await updates.next(within: .seconds(5))
        guard case .full(let fullBytes) = removal else { Issue.record("removal must be a full update, got \(removal)"); return }
        let rebuilt = try BloomFilter(serialized: fullBytes)
        #expect(rebuilt.generation > afterScan.generation)
        #expect(rebuilt.generation == (await catalog.generation))
        #expect(rebuilt.count == 4 + 1)

        for blob in fixture.tool.blobs {
            #expect(await catalog.lookup(blob.digest) == nil)
            #expect(!rebuilt.mightContain(blob.digest))
        }
        #expect(await catalog.resolve("registry.local/tool:2") == nil)
        #expect(!rebuilt.mightContain(SummaryKey(tagKey: "registry.local/tool:2")))
        #expect(fixture.app.blobs.allSatisfy { rebuilt.mightContain($0.digest) })
        #expect(await catalog.resolve("registry.local/app:1") == fixture.app.manifest)
    }

    @Test func additionsTravelAsDeltasAndNoChangeIsNoUpdate() async throws {
        let fixture = try TwoImages(seed: 62)
        defer { fixture.directory.remove() }
        try fixture.writeIndex(tool: false)
        let catalog = LocalCatalog(store: try fixture.store(), configuration: .init(initialGeneration: 100))
        await catalog.refresh()
        #expect(await catalog.generation == 101)
        let before = await catalog.summary

        let updates = await catalog.summaryUpdates()
        try fixture.writeIndex()
        await catalog.refresh()
        await catalog.refresh()  // nothing changed: no new generation
        #expect(await catalog.generation == 102)

        var iterator = updates.makeAsyncIterator()
        #expect(await iterator.next() == .full(before))
        guard case .delta(let delta) = await iterator.next() else { Issue.record("expected a delta"); return }
        #expect(try SummaryDelta(serialized: delta).baseGeneration == 101)
        #expect(SummaryDelta.apply(delta, to: before) == (await catalog.summary))
    }

    @Test func keepsServingTheLastSnapshotWhenTheStoreFails() async throws {
        let fixture = try TwoImages(seed: 63)
        defer { fixture.directory.remove() }
        try fixture.writeIndex()
        let catalog = LocalCatalog(store: try fixture.store())
        #expect(await catalog.storeStatus == .starting)
        await catalog.refresh()
        #expect(await catalog.storeStatus == .available)
        let generation = await catalog.generation
        let summary = await catalog.summary

        try FileManager.default.removeItem(atPath: fixture.directory.path + "/index.json")
        await catalog.refresh()
        let status = await catalog.storeStatus
        #expect(!status.isAvailable)
        #expect(status.description.hasPrefix("unavailable: no such file in the layout: index.json"))
        #expect(await catalog.generation == generation)
        #expect(await catalog.summary == summary)
        #expect(await catalog.lookup(fixture.app.blobs[3].digest) == fixture.app.blobs[3])

        try fixture.writeIndex()
        await catalog.refresh()
        #expect(await catalog.storeStatus == .available)
    }

    @Test func registryFilterDecidesWhatIsAdvertised() async throws {
        let fixture = try TwoImages(seed: 64)
        defer { fixture.directory.remove() }
        try fixture.writeIndex()
        let filter = try RegistryFilter(excludedReferencePatterns: ["/tool:"])
        let catalog = LocalCatalog(store: try fixture.store(), configuration: .init(registryFilter: filter))
        await catalog.refresh()
        let snapshot = await catalog.snapshot
        #expect(Set(snapshot.blobs.values) == Set(fixture.app.blobs))
        #expect(Array(snapshot.tags.keys) == ["registry.local/app:1"])
    }

    /// containerd names an image pulled from a dot-less registry `myhost/app:1`
    /// and asks the mirror for it with `?ns=myhost`: the tag must be
    /// advertised under the key that request builds, not as a Docker Hub name.
    @Test func storeNamesAreReadAsQualifiedNames() async throws {
        let fixture = try TwoImages(seed: 65)
        defer { fixture.directory.remove() }
        try fixture.layout.writeIndex([
            (fixture.app.manifest, [OCILayoutStore.containerdImageNameAnnotation: "myhost/app:1"]),
            (fixture.tool.manifest, [OCILayoutStore.containerdImageNameAnnotation: "Myhost:5000/tool:2"]),
        ])
        let catalog = LocalCatalog(store: try fixture.store(), configuration: .init())
        await catalog.refresh()
        let requested = try ImageReference(registry: "myhost", repository: "app", tag: "1")
        #expect(Set(await catalog.snapshot.tags.keys) == [requested.tagKey!, "myhost:5000/tool:2"])
        #expect(await catalog.resolve(requested) == fixture.app.manifest)
    }

    @Test func concurrentRefreshesShareScans() async throws {
        let fixture = try TwoImages(seed: 65)
        defer { fixture.directory.remove() }
        try fixture.writeIndex()
        let catalog = LocalCatalog(store: try fixture.store(), configuration: .init(initialGeneration: 0))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { await catalog.refresh() } }
        }
        #expect(await catalog.generation == 1)
        #expect(await catalog.snapshot.blobs.count == 7)
    }
}

@Suite struct NodeSummaryTests {
    @Test func growthBeyondCapacityRebuildsWithHeadroom() throws {
        var rng = SplitMix64(seed: 66)
        var summary = NodeSummary(sizing: .init(minimumCapacity: 256, headroom: 2), initialGeneration: 10)
        var keys = Set((0..<250).map { _ in rng.summaryKey() })

        // 250 new keys at once: a delta would be larger than the filter, so it goes whole.
        guard case .full(let first) = summary.update(to: keys) else { Issue.record("a large addition goes whole"); return }
        #expect(try BloomFilter(serialized: first).geometry == BloomFilter.Geometry(expectedCount: 256))

        // Six more still fit the sizing: a delta.
        for _ in 0..<6 { keys.insert(rng.summaryKey()) }
        guard case .delta(let delta) = summary.update(to: keys) else { Issue.record("256 keys fit 256"); return }
        #expect(delta.count < first.count)
        #expect(summary.capacity == 256)

        // One more outgrows it: rebuilt for twice the entries.
        keys.insert(rng.summaryKey())
        guard case .full(let bytes) = summary.update(to: keys) else { Issue.record("257 keys outgrow 256"); return }
        let filter = try BloomFilter(serialized: bytes)
        #expect(summary.capacity == 514)
        #expect(filter.geometry == BloomFilter.Geometry(expectedCount: 514))
        #expect(filter.generation == 13)
        #expect(filter.count == 257)
        #expect(keys.allSatisfy { filter.mightContain($0) })
        #expect(summary.update(to: keys) == nil)
        #expect(summary.generation == 13)
    }

    @Test func removalRebuildsAndShrinks() throws {
        var rng = SplitMix64(seed: 67)
        var summary = NodeSummary(sizing: .init(minimumCapacity: 8, headroom: 2), initialGeneration: 0)
        let keys = Set((0..<100).map { _ in rng.summaryKey() })
        _ = summary.update(to: keys)
        let kept = Set(keys.prefix(10))
        guard case .full(let bytes) = summary.update(to: kept) else { Issue.record("removal must be full"); return }
        let filter = try BloomFilter(serialized: bytes)
        #expect(filter.count == 10)
        #expect(filter.geometry == BloomFilter.Geometry(expectedCount: 20))
        #expect(kept.allSatisfy { filter.mightContain($0) })
    }
}
