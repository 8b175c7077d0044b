// Benchmark driver for scripts/bench/crc32c.sh, compiled together with one
// revision's CRC32C.swift, Digest.swift and Summary/*.swift (and a stub for
// SHA-256, which nothing timed here calls). Prints one line of key=value pairs.
#if canImport(Glibc)
import Glibc
#endif

enum SHA256 {
    static func hash(_ bytes: some Sequence<UInt8>) -> Digest { Digest(sha256: [UInt8](repeating: 0, count: 32))! }
}

func nanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

func median(_ runs: Int, _ body: () -> Void) -> Double {
    var samples: [UInt64] = []
    for _ in 0..<runs {
        let start = nanoseconds()
        body()
        samples.append(nanoseconds() - start)
    }
    samples.sort()
    return Double(samples[runs / 2]) / 1e6
}

var state: UInt64 = 0x9E37_79B9_7F4A_7C15
func nextRandom() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
func randomKey() -> SummaryKey { SummaryKey(bytes: (0..<4).flatMap { _ in withUnsafeBytes(of: nextRandom()) { Array($0) } })! }

let runs = Int(CommandLine.arguments.dropFirst().first ?? "9") ?? 9

// CRC-32C over 8 MiB, the largest filter.
let buffer = (0..<(8 << 20) / 8).flatMap { _ in withUnsafeBytes(of: nextRandom()) { Array($0) } }
var crc: UInt32 = 0
let crcMilliseconds = median(runs) { crc = CRC32C.checksum(buffer) }

// A delta of three new entries applied to the largest filter, as the gossip
// layer's merge does (decode the filter, apply, serialize again).
var base = BloomFilter(geometry: try! BloomFilter.Geometry(bitCount: BloomFilter.Geometry.maximumBitCount, hashCount: 7), generation: 1)
for _ in 0..<100_000 { base.insert(randomKey()) }
var next = base
next.generation = 2
for _ in 0..<3 { next.insert(randomKey()) }
let baseBytes = base.serialized()
let delta = SummaryDelta(from: base, to: next)!.serialized()
var merged: [UInt8]? = nil
let applyMilliseconds = median(runs) { merged = SummaryDelta.apply(delta, to: baseBytes) }
precondition(merged == next.serialized(), "the merge must give the target filter")

print("crc32c=\(String(crc, radix: 16)) crc_ms=\(crcMilliseconds) crc_MBps=\(Double(buffer.count) / 1e6 / (crcMilliseconds / 1e3))"
    + " filter_bytes=\(baseBytes.count) delta_bytes=\(delta.count) apply_ms=\(applyMilliseconds)")
