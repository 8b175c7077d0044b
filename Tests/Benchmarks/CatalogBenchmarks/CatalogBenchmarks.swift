import Benchmark
import Catalog
import Foundation
import Gossip
import Registry

/// The summary paths every request and every gossip delta take, each beside
/// the baseline that bounds it (measured in the same run, see
/// `scripts/bench/micro.sh`):
///
/// - a miss asks every member's Bloom filter whether it may hold the digest:
///   1000 members × 10,000 entries, as in the scale benchmark. Each filter
///   answers after a few random reads of its 24 KiB of bits, and 1000
///   filters are 24 MiB, more than the caches: the baseline is the same
///   number of dependent random reads from a 24 MiB buffer;
/// - a peer's summary arrives whole (decode: check the CRC-32C, copy the
///   bits) or as a delta applied to the one held; the baseline is copying
///   the same bytes.
let benchmarks: @Sendable () -> Void = {
    // `scripts/bench/micro.sh --quick`: a check that everything runs, not a measurement.
    let quick = ProcessInfo.processInfo.environment["BENCH_QUICK"] == "1"
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, warmupIterations: 3,
        maxDuration: quick ? .milliseconds(200) : .seconds(2), maxIterations: 100_000)

    Benchmark("Bloom lookup, 1000 members × 10,000 entries, absent key") { benchmark in
        let filters = Fixtures.filters
        for _ in benchmark.scaledIterations {
            let key = Fixtures.nextAbsentKey()
            benchmark.startMeasurement()
            var hits = 0
            for filter in filters where filter.mightContain(key) { hits += 1 }
            benchmark.stopMeasurement()
            blackHole(hits)
        }
    }

    Benchmark("PeerDirectory.candidates, 1000 members × 10,000 entries, absent key") { benchmark in
        let directory = Fixtures.directory
        for _ in benchmark.scaledIterations {
            let key = Fixtures.nextAbsentKey()
            benchmark.startMeasurement()
            blackHole(directory.candidates(for: key))
            benchmark.stopMeasurement()
        }
    }

    Benchmark("baseline: dependent random reads from 24 MiB, as many as one lookup makes") { benchmark in
        let reads = Fixtures.readsPerLookup
        for _ in benchmark.scaledIterations {
            benchmark.startMeasurement()
            blackHole(Fixtures.chase(reads))
            benchmark.stopMeasurement()
        }
    }

    Benchmark("summary decode, 10,000 entries (BloomFilter(serialized:))") { benchmark in
        let bytes = Fixtures.serialized
        for _ in benchmark.scaledIterations {
            blackHole(try? BloomFilter(serialized: bytes))
        }
    }

    Benchmark("summary delta apply, 10 new digests to 10,000 entries (SummaryDelta.apply)") { benchmark in
        let (delta, base) = (Fixtures.delta, Fixtures.serialized)
        for _ in benchmark.scaledIterations {
            blackHole(SummaryDelta.apply(delta, to: base))
        }
    }

    Benchmark("baseline: copy the serialized summary") { benchmark in
        let bytes = Fixtures.serialized
        for _ in benchmark.scaledIterations {
            blackHole(Array(bytes[...]))
        }
    }
}

/// Inputs built once, outside any measurement.
enum Fixtures {
    static let members = 1000
    static let entries = 10_000
    /// As a node sizes its filter for what it holds (`NodeSummary`: twice the
    /// entries, 1 % false positives).
    static let capacity = 2 * entries

    static func randomKey<G: RandomNumberGenerator>(_ generator: inout G) -> SummaryKey {
        SummaryKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })!
    }

    static let filters: [BloomFilter] = {
        var generator = SplitMix(seed: 1)
        return (0..<members).map { _ in
            var filter = BloomFilter(expectedCount: capacity, falsePositiveRate: 0.01)
            for _ in 0..<entries { filter.insert(randomKey(&generator)) }
            return filter
        }
    }()

    static let directory: PeerDirectory = {
        let directory = PeerDirectory(selfName: "bench-self")
        let members = filters.indices.map { i in
            SWIM.Member(
                name: "member-\(i)", endpoint: SWIM.Endpoint(host: "10.0.\(i / 256).\(i % 256)", port: 7946),
                incarnation: 1, status: .alive, metadata: ["registry": "10.0.\(i / 256).\(i % 256):5000"],
                statusChangedAt: .zero)
        }
        directory.update(members: members)
        for (i, filter) in filters.enumerated() { directory.setSummary(of: "member-\(i)", bytes: filter.serialized()) }
        return directory
    }()

    /// Fresh random keys, which every filter rejects but for its false
    /// positives (1 % at capacity, about 0.05 % at half of it), drawn in turn.
    static let absentKeys: [SummaryKey] = {
        var generator = SplitMix(seed: 2)
        return (0..<4096).map { _ in randomKey(&generator) }
    }()
    nonisolated(unsafe) static var cursor = 0
    static func nextAbsentKey() -> SummaryKey {
        cursor = (cursor + 1) & 4095
        return absentKeys[cursor]
    }

    /// Bits read per lookup of an absent key, over all filters: a filter with
    /// a fraction f of its bits set stops at the first clear bit of the k it
    /// would test, after 1 + f + … + f^(k−1) = (1 − f^k) / (1 − f) reads on
    /// average.
    static let readsPerLookup: Int = {
        let reads = filters.reduce(0.0) { sum, filter in
            let f = Double(filter.setBitCount) / Double(filter.geometry.bitCount)
            return sum + (1 - pow(f, Double(filter.geometry.hashCount))) / (1 - f)
        }
        return Int(reads.rounded())
    }()

    /// A random cyclic permutation over 24 MiB of 8-byte slots: following it
    /// makes every read depend on the one before, as a cache miss would.
    static let ring: [Int] = {
        let slots = filters.count * filters[0].geometry.bitCount / 64
        var order = Array(0..<slots)
        var generator = SplitMix(seed: 3)
        order.shuffle(using: &generator)
        var next = [Int](repeating: 0, count: slots)
        for i in 0..<slots { next[order[i]] = order[(i + 1) % slots] }
        return next
    }()
    nonisolated(unsafe) static var position = 0
    static func chase(_ reads: Int) -> Int {
        var p = position
        ring.withUnsafeBufferPointer { ring in
            for _ in 0..<reads { p = ring[p] }
        }
        position = p
        return p
    }

    static let serialized: [UInt8] = filters[0].serialized()

    /// Ten digests added to filter 0, as the delta a node gossips after a pull.
    static let delta: [UInt8] = {
        var generator = SplitMix(seed: 4)
        var next = filters[0]
        next.generation = filters[0].generation + 1
        for _ in 0..<10 { next.insert(randomKey(&generator)) }
        return SummaryDelta(from: filters[0], to: next)!.serialized()
    }()
}

/// A small seeded generator (SplitMix64), so that every run builds the same fixtures.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
