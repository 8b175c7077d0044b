import Foundation
import TestSupport
import Testing
@testable import Catalog

@Suite struct ImageWalkerTests {
    /// The scenario of the brief: an index of two platforms of which only
    /// amd64 was pulled.
    @Test func multiPlatformIndexWithOnePlatformPresent() async throws {
        let directory = try ScratchDirectory("walk-platforms")
        defer { directory.remove() }
        let layout = try OCILayoutWriter(root: directory.path)
        var rng = SplitMix64(seed: 51)
        let amd64 = try layout.makeImage(layerSizes: [4096, 70_000, 1], architecture: "amd64", write: true, rng: &rng)
        let arm64 = try layout.makeImage(layerSizes: [5000, 9000], architecture: "arm64", write: false, rng: &rng)
        let index = try layout.addBlob(OCILayoutWriter.index([(amd64.manifest, "amd64"), (arm64.manifest, "arm64")]),
                                       mediaType: MediaType.ociIndex)
        try layout.writeIndex([(index, [OCILayoutStore.refNameAnnotation: "1.0"])])
        let store = try OCILayoutStore(
            path: directory.path, configuration: .init(defaultRepository: try ImageReference("registry.local/team/app")))

        let images = try await store.listImages()
        #expect(images == [ImageRecord(name: "registry.local/team/app:1.0", target: index)])

        var walker = ImageWalker()
        let content = try await walker.walk(images[0], in: store)
        #expect(content.isRootPresent)
        #expect(content.present.count == 6)  // index, manifest, config, 3 layers
        #expect(Set(content.present) == Set([index] + amd64.blobs))
        #expect(content.missing == [arm64.manifest])

        let types = Dictionary(uniqueKeysWithValues: content.present.map { ($0.digest, $0.mediaType) })
        #expect(types[index.digest] == MediaType.ociIndex)
        #expect(types[amd64.manifest.digest] == MediaType.ociManifest)
        #expect(types[amd64.blobs[1].digest] == MediaType.ociConfig)
        #expect(amd64.blobs[2...].allSatisfy { types[$0.digest] == MediaType.ociLayerGzip })
        #expect(arm64.blobs.allSatisfy { types[$0.digest] == nil })

        // The same layout through the catalog: digests, media types and the tag.
        let catalog = LocalCatalog(store: store)
        await catalog.refresh()
        let snapshot = await catalog.snapshot
        #expect(Set(snapshot.blobs.values) == Set([index] + amd64.blobs))
        #expect(snapshot.tags == ["registry.local/team/app:1.0": index])
        #expect(await catalog.resolve("registry.local/team/app:1.0") == index)
        #expect(await catalog.resolve(try ImageReference("registry.local/team/app:1.0")) == index)
        #expect(await catalog.lookup(amd64.blobs[2].digest) == amd64.blobs[2])
        #expect(await catalog.lookup(arm64.blobs[0].digest) == nil)
        let summary = try BloomFilter(serialized: await catalog.summary)
        #expect(summary.count == 7)  // 6 blobs and 1 tag
        #expect(([index] + amd64.blobs).allSatisfy { summary.mightContain($0.digest) })
        #expect(summary.mightContain(SummaryKey(tagKey: "registry.local/team/app:1.0")))
    }

    @Test func dockerManifestListKeepsDockerMediaTypes() async throws {
        let directory = try ScratchDirectory("walk-docker")
        defer { directory.remove() }
        let layout = try OCILayoutWriter(root: directory.path)
        var rng = SplitMix64(seed: 52)
        let dockerTypes = (MediaType.dockerManifest, MediaType.dockerConfig, MediaType.dockerLayerGzip)
        let amd64 = try layout.makeImage(layerSizes: [300, 400], architecture: "amd64", write: true, rng: &rng, mediaTypes: dockerTypes)
        let arm64 = try layout.makeImage(layerSizes: [500], architecture: "arm64", write: true, rng: &rng, mediaTypes: dockerTypes)
        let list = try layout.addBlob(
            OCILayoutWriter.index([(amd64.manifest, "amd64"), (arm64.manifest, "arm64")], mediaType: MediaType.dockerManifestList),
            mediaType: MediaType.dockerManifestList)
        let store = try OCILayoutStore(path: directory.path)

        var walker = ImageWalker()
        let content = try await walker.walk(ImageRecord(name: "docker.io/library/busybox:1.36", target: list), in: store)
        #expect(Set(content.present) == Set([list] + amd64.blobs + arm64.blobs))
        #expect(content.missing.isEmpty)
        #expect(content.present.filter { $0.mediaType == MediaType.dockerLayerGzip }.count == 3)
        #expect(content.present.filter { $0.mediaType == MediaType.dockerConfig }.count == 2)
    }

    @Test func advertisesOnlyBlobsOfTheDescribedSizeAndRechecksPresence() async throws {
        let directory = try ScratchDirectory("walk-sizes")
        defer { directory.remove() }
        let layout = try OCILayoutWriter(root: directory.path)
        var rng = SplitMix64(seed: 53)
        let image = try layout.makeImage(layerSizes: [100, 200], architecture: "amd64", write: true, rng: &rng)
        let store = try OCILayoutStore(path: directory.path)
        let record = ImageRecord(name: "docker.io/library/x:1", target: image.manifest)

        // A file under a layer's digest with the wrong size is not that layer.
        try Data(rng.bytes(101)).write(to: URL(fileURLWithPath: layout.blobPath(image.blobs[2].digest)))
        var walker = ImageWalker()
        var content = try await walker.walk(record, in: store)
        #expect(content.missing == [image.blobs[2]])
        #expect(Set(content.present) == Set([image.blobs[0], image.blobs[1], image.blobs[3]]))

        // Cached documents do not make removed blobs look present.
        try layout.removeBlob(image.blobs[3].digest)
        content = try await walker.walk(record, in: store)
        #expect(content.missing == [image.blobs[2], image.blobs[3]])

        // An absent root yields nothing and no tag.
        try layout.removeBlob(image.manifest.digest)
        content = try await walker.walk(record, in: store)
        #expect(content.present.isEmpty && !content.isRootPresent)
    }

    @Test func boundsDepthAndDocumentSize() async throws {
        let directory = try ScratchDirectory("walk-bounds")
        defer { directory.remove() }
        let layout = try OCILayoutWriter(root: directory.path)
        var rng = SplitMix64(seed: 54)
        let image = try layout.makeImage(layerSizes: [10], architecture: "amd64", write: true, rng: &rng)
        var chain = [image.manifest]
        for _ in 0..<4 {
            chain.append(try layout.addBlob(OCILayoutWriter.index([(chain.last!, "amd64")]), mediaType: MediaType.ociIndex))
        }
        let store = try OCILayoutStore(path: directory.path)

        // Depth 0 (root), 1 and 2 are visited; depth 2 is not descended into.
        var shallow = ImageWalker(limits: .init(maximumDepth: 2))
        let content = try await shallow.walk(ImageRecord(name: "docker.io/library/x:1", target: chain[4]), in: store)
        #expect(content.present == [chain[4], chain[3], chain[2]])

        var deep = ImageWalker()
        let all = try await deep.walk(ImageRecord(name: "docker.io/library/x:1", target: chain[4]), in: store)
        #expect(all.present.count == 4 + 3)

        // A manifest over the document limit is advertised, not read.
        var small = ImageWalker(limits: .init(maximumDocumentSize: 100))
        let bounded = try await small.walk(ImageRecord(name: "docker.io/library/x:1", target: image.manifest), in: store)
        #expect(image.manifest.size > 100)
        #expect(bounded.present == [image.manifest])
    }

    @Test func rootWithoutMediaTypeIsSniffed() async throws {
        let directory = try ScratchDirectory("walk-sniff")
        defer { directory.remove() }
        let layout = try OCILayoutWriter(root: directory.path)
        var rng = SplitMix64(seed: 55)
        let image = try layout.makeImage(layerSizes: [10, 20], architecture: "amd64", write: true, rng: &rng)
        var untyped = image.manifest
        untyped.mediaType = ""
        var walker = ImageWalker()
        let content = try await walker.walk(ImageRecord(name: "docker.io/library/x:1", target: untyped),
                                            in: try OCILayoutStore(path: directory.path))
        #expect(Set(content.present) == Set(image.blobs))
        #expect(content.present[0].mediaType == MediaType.ociManifest)
    }
}
