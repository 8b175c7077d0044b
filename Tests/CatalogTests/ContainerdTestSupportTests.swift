import Catalog
import Foundation
import Testing
import TestSupport

/// The test image builder writes archives and layouts that real tools accept.
@Suite("TestSupport image builder")
struct ContainerdTestSupportTests {
    @Test("a layer is a valid ustar archive holding one file of the chosen size")
    func tarLayer() async throws {
        let scratch = try ScratchDirectory("gm-tar")
        defer { scratch.remove() }
        let image = try await TestImageBuilder(layerSizes: [0, 1, 511, 512, 70_001]).write(to: scratch.path, tag: "t")
        let host = try #require(image.hostImage)
        for (layer, size) in zip(host.layers, [0, 1, 511, 512, 70_001]) {
            let listing = try await Subprocess.run(["tar", "-tvf", image.blobPath(layer.digest)])
            let fields = listing.stdout.split(separator: " ", omittingEmptySubsequences: true)
            #expect(fields.count >= 6 && fields[2] == "\(size)", "\(listing.stdout)")
            #expect(layer.mediaType == TestImageBuilder.MediaType.layer)
            #expect(layer.size == Int64(512 + (size + 511) / 512 * 512 + 1024))
        }
        let index = try String(contentsOfFile: scratch.path + "/index.json", encoding: .utf8)
        #expect(index.contains(#""org.opencontainers.image.ref.name":"t""#))
        #expect(index.contains(image.root.digest.description))
        #expect(!image.isIndex)
    }

    @Test("a multi-platform image is an index of amd64 and arm64 with distinct layers")
    func multiPlatform() async throws {
        let scratch = try ScratchDirectory("gm-idx")
        defer { scratch.remove() }
        let image = try await TestImageBuilder.multiPlatform(layerSizes: [10], compression: .gzip)
            .write(to: scratch.path, tag: "m")
        #expect(image.isIndex)
        #expect(image.platforms.map(\.platform) == [.amd64, .arm64])
        #expect(Set(image.platforms.flatMap(\.layers)).count == 2)
        #expect(image.platforms.allSatisfy { $0.layers.allSatisfy { $0.mediaType == TestImageBuilder.MediaType.gzipLayer } })
        for descriptor in image.allDescriptors {
            let data = try #require(FileManager.default.contents(atPath: image.blobPath(descriptor.digest)))
            #expect(Int64(data.count) == descriptor.size)
            #expect(SHA256.hash(data) == descriptor.digest)
        }
        let index = try String(contentsOfFile: image.blobPath(image.root.digest), encoding: .utf8)
        #expect(index.contains(#""platform":{"architecture":"arm64","os":"linux"}"#))
    }
}
