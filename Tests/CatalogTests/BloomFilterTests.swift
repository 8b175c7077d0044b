import Testing
import TestSupport
@testable import Catalog

@Suite struct BloomFilterTests {
    @Test func geometryFollowsTheFormula() {
        // m = ceil(-n ln p / ln²2) = 958,506 → 958,528 (multiple of 64); k = round(m/n · ln 2) = 7.
        let geometry = BloomFilter.Geometry(expectedCount: 100_000, falsePositiveRate: 0.01)
        #expect(geometry.bitCount == 958_528)
        #expect(geometry.hashCount == 7)
        // 10,000 entries: 95,851 → 95,872 bits.
        #expect(BloomFilter.Geometry(expectedCount: 10_000).bitCount == 95_872)
        // Empty and tiny expectations still give a usable filter.
        let tiny = BloomFilter.Geometry(expectedCount: 0)
        #expect(tiny.bitCount == 64 && tiny.hashCount >= 1)
        // Capped at 8 MiB of bits.
        #expect(BloomFilter.Geometry(expectedCount: 100_000_000).bitCount == BloomFilter.Geometry.maximumBitCount)
    }

    @Test func bitPositionsAreDoubleHashingOfTheKeyBytes() {
        // h1 = 5, h2 = 3 (little-endian), m = 64 → 5, 8, 11, … (mod 64).
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes[0] = 5
        bytes[8] = 3
        let filter = BloomFilter(geometry: try! .init(bitCount: 64, hashCount: 4))
        #expect(filter.bitPositions(of: SummaryKey(bytes: bytes)!) == [5, 8, 11, 14])

        // h1 = 2^64 - 1, h2 = 2^64 - 2, m = 128: exact arithmetic, (h1 + i·h2) mod 128.
        bytes = [UInt8](repeating: 0xFF, count: 32)
        bytes[8] = 0xFE
        let wide = BloomFilter(geometry: try! .init(bitCount: 128, hashCount: 3))
        #expect(wide.bitPositions(of: SummaryKey(bytes: bytes)!) == [127, (127 + 126) % 128, (127 + 2 * 126) % 128])
    }

    @Test func noFalseNegativesFor100000RandomEntries() {
        var rng = SplitMix64(seed: 1)
        let keys = (0..<100_000).map { _ in rng.summaryKey() }
        var filter = BloomFilter(expectedCount: keys.count)
        for key in keys { filter.insert(key) }
        #expect(filter.count == 100_000)
        let missing = keys.filter { !filter.mightContain($0) }.count
        #expect(missing == 0)
    }

    @Test func falsePositiveRateAt100000EntriesIsWithin10PercentOfTarget() {
        var rng = SplitMix64(seed: 42)
        var filter = BloomFilter(expectedCount: 100_000, falsePositiveRate: 0.01)
        for _ in 0..<100_000 { filter.insert(rng.summaryKey()) }

        let queries = 1_000_000
        var falsePositives = 0
        for _ in 0..<queries where filter.mightContain(rng.summaryKey()) { falsePositives += 1 }
        let rate = Double(falsePositives) / Double(queries)
        print("measured false-positive rate: \(rate) (\(falsePositives) of \(queries)); "
              + "model \(filter.geometry.expectedFalsePositiveRate(count: 100_000)); fill \(filter.setBitCount) of \(filter.geometry.bitCount)")
        #expect(abs(rate - 0.01) <= 0.001, "rate \(rate)")
    }

    @Test func tenThousandDigestsSerializeToAtMost20000Bytes() throws {
        var rng = SplitMix64(seed: 3)
        var filter = BloomFilter(expectedCount: 10_000)
        for _ in 0..<10_000 { filter.insert(rng.digest()) }
        let bytes = filter.serialized()
        print("filter of 10,000 digests: \(bytes.count) bytes")
        #expect(bytes.count <= 20_000)
        #expect(bytes.count == 32 + 95_872 / 8 + 4)
        #expect(try BloomFilter(serialized: bytes) == filter)
    }

    @Test func serializationRoundTripsEveryField() throws {
        var rng = SplitMix64(seed: 4)
        var filter = BloomFilter(expectedCount: 500, falsePositiveRate: 0.001, generation: 0xDEAD_BEEF_0000_0001)
        let keys = (0..<300).map { _ in rng.summaryKey() }
        for key in keys { filter.insert(key) }
        let decoded = try BloomFilter(serialized: filter.serialized())
        #expect(decoded == filter)
        #expect(decoded.generation == 0xDEAD_BEEF_0000_0001)
        #expect(decoded.count == 300)
        #expect(decoded.geometry == filter.geometry)
        #expect(keys.allSatisfy { decoded.mightContain($0) })
    }

    @Test func tagKeysAreSha256OfTheNormalisedReference() throws {
        let reference = try ImageReference("ubuntu")
        let key = SummaryKey(tagKey: reference.tagKey!)
        #expect(key.bytes == SHA256.hash("docker.io/library/ubuntu:latest".utf8).bytes)
        var filter = BloomFilter(expectedCount: 10)
        filter.insert(key)
        #expect(filter.mightContain(SummaryKey(tagKey: "docker.io/library/ubuntu:latest")))
    }
}
