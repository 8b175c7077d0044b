import Catalog
import Foundation
import Testing
import TestSupport

/// `ContainerdStore` against a real containerd 1.6 started by the test, fed by a
/// real docker-registry holding a generated image, pulled with `ctr`.
@Suite(
    "ContainerdStore with a real containerd",
    .serialized,
    .enabled(
        if: TestEnvironment.canRun(
            TestEnvironment.containerdTools + TestEnvironment.registryTools + TestEnvironment.imageTools,
            needsRoot: true),
        "needs root, containerd, ctr, docker-registry, skopeo (Debian packages containerd, docker-registry, skopeo)")
)
struct ContainerdStoreTests {
    /// Kubernetes' namespace: its dot must survive the event filter unquoted.
    static let namespace = ContainerdConfiguration.kubernetesNamespace

    @Test("a pulled image is listed, its blobs are served from disk, and deleting it is noticed")
    func pullListServeDelete() async throws {
        try await withStack { registry, containerd, scratch in
            let image = try await TestImageBuilder.multiPlatform(layerSizes: [3000, 300_000])
                .write(to: scratch.appending("layout"), tag: "v1")
            let reference = try await registry.push(image, repository: "gossip/app")
            let host = try #require(image.hostImage)

            let store = try makeStore(containerd)
            defer { store.shutdown() }
            #expect(store.blobsDirectory == containerd.root + "/io.containerd.content.v1.content/blobs/sha256")
            let events = await EventRecorder.recording(store.events())
            try await events.availability(true)
            try await events.imagesChanged()  // the initial re-list
            #expect(try await store.listImages().isEmpty)

            try await containerd.pull(reference)
            try await events.imagesChanged()  // ImageCreate
            let images = try await store.listImages()
            #expect(images == [ImageRecord(name: reference, target: image.root)])
            #expect(try await store.image(named: reference) == ImageRecord(name: reference, target: image.root))
            #expect(try await store.image(named: "\(registry.host)/gossip/absent:v1") == nil)

            // Index, host manifest, config and layers: present, served as files
            // with the same bytes as the layout.
            for descriptor in image.pulledDescriptors {
                #expect(try await store.size(of: descriptor.digest) == descriptor.size, "\(descriptor)")
                let source = try await store.open(descriptor.digest)
                guard case .file(let file) = source else {
                    Issue.record("expected a file for \(descriptor), got \(source)")
                    continue
                }
                #expect(file.size == descriptor.size)
                #expect(Data(try file.readAll(limit: 64 << 20)) == FileManager.default.contents(atPath: image.blobPath(descriptor.digest)))
            }
            for descriptor in [image.root, host.manifest, host.config] {
                let bytes = try await store.read(descriptor.digest, limit: 1 << 20)
                #expect(Data(bytes) == FileManager.default.contents(atPath: image.blobPath(descriptor.digest)))
            }
            await #expect(throws: ContainerdError.self) {
                try await store.read(host.layers[1].digest, limit: 1024)
            }

            // The other platform was never pulled: not advertised, not served.
            let other = try #require(image.platforms.first { $0.platform != .host })
            for descriptor in other.descriptors {
                #expect(try await store.size(of: descriptor.digest) == nil, "\(descriptor)")
            }
            await #expect(throws: ContainerdError.notFound("blob \(other.manifest.digest)")) {
                try await store.open(other.manifest.digest)
            }

            // Delete: an event arrives, the image is gone, and garbage collection
            // withdraws its blobs (no event for that: poll).
            try await containerd.remove(reference)
            try await events.imagesChanged()  // ImageDelete
            #expect(try await store.listImages().isEmpty)
            let collected = try await poll(timeout: .seconds(20)) {
                try await store.size(of: host.layers[1].digest) == nil
            }
            try #require(collected != nil, "garbage collection to remove the layers")
        }
    }

    @Test("containerd stopping or crashing is reported, and the store recovers when it is back")
    func restartAndCrash() async throws {
        try await withStack { registry, containerd, scratch in
            let image = try await TestImageBuilder(layerSizes: [1000]).write(to: scratch.appending("layout"), tag: "r1")
            let reference = try await registry.push(image, repository: "gossip/restart")
            try await containerd.pull(reference)

            let store = try makeStore(containerd)
            defer { store.shutdown() }
            let events = await EventRecorder.recording(store.events())
            try await events.availability(true)
            try await events.imagesChanged()
            #expect(try await store.listImages().map(\.name) == [reference])

            // A clean stop removes the socket: the store says so.
            await containerd.stop()
            let down = try await events.availability(false)
            #expect(!down.isEmpty)
            await #expect(throws: ContainerdError.socketMissing(path: containerd.socketPath)) {
                try await store.listImages()
            }
            try await containerd.start()
            try await events.availability(true)
            try await events.imagesChanged()
            #expect(try await store.listImages().map(\.name) == [reference])

            // A crash leaves a stale socket behind: unavailable, then back again.
            await containerd.kill()
            try await events.availability(false)
            await #expect(throws: ContainerdError.self) { try await store.listImages() }
            try await containerd.start()
            try await events.availability(true)
            try await events.imagesChanged()
            #expect(try await store.listImages().map(\.name) == [reference])
            #expect(try await store.size(of: image.root.digest) == image.root.size)

            // Events still flow on the new subscription.
            try await containerd.remove(reference)
            try await events.imagesChanged()
            #expect(try await store.listImages().isEmpty)
        }
    }

    @Test("without access to the content directory, blobs stream through Content.Read")
    func streamsThroughContentAPI() async throws {
        try await withStack { registry, containerd, scratch in
            // 9 MB spans several 4 MiB read windows; gzip layers as most registries serve.
            let image = try await TestImageBuilder(layerSizes: [9_000_000, 100], compression: .gzip)
                .write(to: scratch.appending("layout"), tag: "s1")
            let reference = try await registry.push(image, repository: "gossip/stream")
            try await containerd.pull(reference)

            let store = try makeStore(containerd, contentRoot: scratch.appending("no-such-root"))
            defer { store.shutdown() }
            #expect(store.blobsDirectory == nil)
            for descriptor in image.pulledDescriptors {
                let source = try await store.open(descriptor.digest)
                guard case .stream(let size, let chunks) = source else {
                    Issue.record("expected a stream for \(descriptor), got \(source)")
                    continue
                }
                #expect(size == descriptor.size)
                var bytes = [UInt8]()
                for try await chunk in chunks { bytes += chunk }
                #expect(Data(bytes) == FileManager.default.contents(atPath: image.blobPath(descriptor.digest)), "\(descriptor)")
            }
            let manifest = try await store.read(image.root.digest, limit: 1 << 20)
            #expect(Data(manifest) == FileManager.default.contents(atPath: image.blobPath(image.root.digest)))
        }
    }

    @Test("a namespace that does not exist is explained, not mistaken for an empty node")
    func wrongNamespace() async throws {
        try await ContainerdProcess.with(namespace: Self.namespace) { containerd in
            // Make the real namespace exist with something in it.
            try await containerd.ctr(["namespaces", "create", Self.namespace])
            let store = try ContainerdStore(
                configuration: ContainerdConfiguration(socketPath: containerd.socketPath, namespace: "moby"),
                logger: TestLogging.logger("containerd-store"))
            defer { store.shutdown() }
            let events = await EventRecorder.recording(store.events())
            let detail = try await events.availability(true)
            #expect(detail.contains("namespace 'moby' does not exist"), "\(detail)")
            #expect(detail.contains(Self.namespace), "\(detail)")
            #expect(try await store.listImages().isEmpty)
        }
    }

    @Test("LocalCatalog over containerd advertises exactly what was pulled, withdraws it on delete, and recovers after a restart")
    func catalogFollowsContainerd() async throws {
        try await withStack { registry, containerd, scratch in
            let image = try await TestImageBuilder.multiPlatform(layerSizes: [2000, 200_000])
                .write(to: scratch.appending("layout"), tag: "c1")
            let reference = try await registry.push(image, repository: "gossip/catalog")
            let host = try #require(image.hostImage)
            let other = try #require(image.platforms.first { $0.platform != .host })
            let expected = Dictionary(uniqueKeysWithValues: image.pulledDescriptors.map { ($0.digest, $0) })

            let store = try makeStore(containerd)
            let catalog = LocalCatalog(
                store: store,
                configuration: LocalCatalog.Configuration(relistInterval: .seconds(3600)),
                logger: TestLogging.logger("catalog"))
            let running = Task { await catalog.run() }
            defer {
                running.cancel()
                store.shutdown()
            }
            let scanned = await poll(timeout: .seconds(30)) { await catalog.storeStatus == .available }
            try #require(scanned != nil, "the catalog's first scan")
            #expect(await catalog.snapshot == .empty)

            // Pull: exactly the index, the host manifest, its config and layers,
            // with the media types their parents gave them, and the tag.
            try await containerd.pull(reference)
            let advertised = await poll(timeout: .seconds(30)) { await catalog.resolve(reference) != nil }
            try #require(advertised != nil, "the catalog to advertise \(reference)")
            var snapshot = await catalog.snapshot
            #expect(snapshot.blobs == expected)
            #expect(snapshot.tags == [reference: image.root])
            #expect(snapshot.blobs[image.root.digest]?.mediaType == TestImageBuilder.MediaType.index)
            #expect(snapshot.blobs[host.manifest.digest]?.mediaType == TestImageBuilder.MediaType.manifest)
            #expect(snapshot.blobs[host.config.digest]?.mediaType == TestImageBuilder.MediaType.config)
            for layer in host.layers {
                #expect(snapshot.blobs[layer.digest]?.mediaType == TestImageBuilder.MediaType.layer)
            }
            for descriptor in other.descriptors {
                #expect(await catalog.lookup(descriptor.digest) == nil, "the other platform was never pulled")
            }

            // Delete: everything is withdrawn.
            try await containerd.remove(reference)
            let withdrawn = await poll(timeout: .seconds(30)) {
                let snapshot = await catalog.snapshot
                return snapshot.tags.isEmpty && snapshot.blobs.isEmpty
            }
            try #require(withdrawn != nil, "the catalog to withdraw \(reference)")

            // Restart: the last snapshot stays in service while containerd is
            // down, and the catalog is current again once it is back.
            try await containerd.pull(reference)
            let readvertised = await poll(timeout: .seconds(30)) { await catalog.resolve(reference) != nil }
            try #require(readvertised != nil, "the catalog to advertise \(reference) again")
            await containerd.stop()
            let noticed = await poll(timeout: .seconds(30)) { await !catalog.storeStatus.isAvailable }
            try #require(noticed != nil, "the catalog to notice containerd is down")
            #expect(await catalog.snapshot.blobs == expected)
            try await containerd.start()
            let recovered = await poll(timeout: .seconds(30)) { await catalog.storeStatus == .available }
            try #require(recovered != nil, "the catalog to recover")
            snapshot = await catalog.snapshot
            #expect(snapshot.blobs == expected)
            #expect(snapshot.tags == [reference: image.root])

            // Events flow again after the restart.
            try await containerd.remove(reference)
            let withdrawnAgain = await poll(timeout: .seconds(30)) {
                await catalog.snapshot.blobs.isEmpty
            }
            try #require(withdrawnAgain != nil, "the catalog to withdraw \(reference) after the restart")
        }
    }

    // MARK: Helpers

    /// A registry, a containerd (namespace `k8s.io`) and a scratch folder,
    /// all removed afterwards, whatever happens.
    private func withStack(
        _ body: (RegistryProcess, ContainerdProcess, ScratchDirectory) async throws -> Void
    ) async throws {
        let scratch = try ScratchDirectory("gm-test")
        defer { scratch.remove() }
        try await RegistryProcess.with { registry in
            try await ContainerdProcess.with(namespace: Self.namespace) { containerd in
                try await body(registry, containerd, scratch)
            }
        }
    }

    private func makeStore(_ containerd: ContainerdProcess, contentRoot: String? = nil) throws -> ContainerdStore {
        try ContainerdStore(
            configuration: ContainerdConfiguration(
                socketPath: containerd.socketPath,
                namespace: Self.namespace,
                contentRoot: contentRoot ?? containerd.root,
                // Long enough that only real events produce `.imagesChanged` here.
                relistInterval: .seconds(3600),
                infoCacheTTL: .milliseconds(500)
            ),
            logger: TestLogging.logger("containerd-store")
        )
    }
}

extension EventRecorder where Element == StoreEvent {
    /// Waits for the next availability change to `available`; returns its detail.
    @discardableResult
    func availability(_ available: Bool, within deadline: Duration = .seconds(30)) async throws -> String {
        let event = try await next(within: deadline, "availability(\(available))") {
            if case .availability(available, _) = $0 { return true }
            return false
        }
        guard case .availability(_, let detail) = event else { return "" }
        return detail
    }

    /// Waits for the next `.imagesChanged`.
    func imagesChanged(within deadline: Duration = .seconds(30)) async throws {
        _ = try await next(within: deadline, "imagesChanged") { $0 == .imagesChanged }
    }
}
