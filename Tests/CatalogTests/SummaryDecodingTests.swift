import Testing
import TestSupport
@testable import Catalog

/// Serialized filters and deltas come from other nodes: every malformed input
/// must throw a `SummaryFormatError`, never crash.
@Suite struct SummaryDecodingTests {
    static func sampleFilter() -> BloomFilter {
        var rng = SplitMix64(seed: 11)
        var filter = BloomFilter(expectedCount: 100, generation: 9)
        for _ in 0..<80 { filter.insert(rng.summaryKey()) }
        return filter
    }

    static func sampleDelta() -> SummaryDelta {
        var rng = SplitMix64(seed: 12)
        let base = sampleFilter()
        var target = base
        for _ in 0..<10 { target.insert(rng.summaryKey()) }
        target.generation = base.generation + 1
        return SummaryDelta(from: base, to: target)!
    }

    /// Replaces bytes at `offset` and re-seals the checksum, so that the field
    /// checks (not the checksum) must catch the change.
    static func resealed(_ bytes: [UInt8], patching offset: Int, with patch: [UInt8]) -> [UInt8] {
        var body = Array(bytes.dropLast(4))
        body.replaceSubrange(offset..<(offset + patch.count), with: patch)
        var writer = ByteWriter()
        writer.append(contentsOf: body)
        SummaryWireFormat.seal(&writer)
        return writer.bytes
    }

    static func littleEndian(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    @Test func everyTruncationOfAFilterThrows() {
        let bytes = Self.sampleFilter().serialized()
        #expect(bytes.count == 32 + 960 / 8 + 4)
        for length in 0..<bytes.count {
            #expect(throws: SummaryFormatError.self, "length \(length)") { try BloomFilter(serialized: Array(bytes.prefix(length))) }
        }
    }

    @Test func everySingleByteChangeOfAFilterThrows() {
        let bytes = Self.sampleFilter().serialized()
        var rng = SplitMix64(seed: 13)
        for offset in 0..<bytes.count {
            for _ in 0..<8 {
                var tampered = bytes
                tampered[offset] ^= UInt8.random(in: 1...255, using: &rng)
                #expect(throws: SummaryFormatError.self, "offset \(offset)") { try BloomFilter(serialized: tampered) }
            }
        }
    }

    @Test func randomMultiByteCorruptionOfAFilterNeverCrashes() {
        let bytes = Self.sampleFilter().serialized()
        var rng = SplitMix64(seed: 14)
        var rejected = 0
        for _ in 0..<5_000 {
            var tampered = bytes
            for _ in 0..<Int.random(in: 2...6, using: &rng) {
                tampered[Int.random(in: 0..<tampered.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if tampered != bytes, (try? BloomFilter(serialized: tampered)) == nil { rejected += 1 }
        }
        #expect(rejected >= 4_990)  // CRC-32C misses 1 in 2^32 of these
    }

    @Test func filterFieldChecksWithValidChecksums() throws {
        let bytes = Self.sampleFilter().serialized()
        #expect(throws: SummaryFormatError.badMagic) { try BloomFilter(serialized: Self.resealed(bytes, patching: 0, with: Array("GMBD".utf8))) }
        #expect(throws: SummaryFormatError.unsupportedVersion(2)) { try BloomFilter(serialized: Self.resealed(bytes, patching: 4, with: [2])) }
        #expect(throws: SummaryFormatError.unsupportedScheme(7)) { try BloomFilter(serialized: Self.resealed(bytes, patching: 5, with: [7])) }
        #expect(throws: SummaryFormatError.invalidGeometry(bitCount: 960, hashCount: 0)) {
            try BloomFilter(serialized: Self.resealed(bytes, patching: 6, with: [0]))
        }
        #expect(throws: SummaryFormatError.invalidGeometry(bitCount: 960, hashCount: 65)) {
            try BloomFilter(serialized: Self.resealed(bytes, patching: 6, with: [65]))
        }
        #expect(throws: SummaryFormatError.reservedBitsSet) { try BloomFilter(serialized: Self.resealed(bytes, patching: 7, with: [1])) }
        // m not a multiple of 64, zero, or beyond the limit.
        for m: UInt64 in [961, 0, UInt64(BloomFilter.Geometry.maximumBitCount) + 64, .max] {
            #expect(throws: SummaryFormatError.self, "m \(m)") {
                try BloomFilter(serialized: Self.resealed(bytes, patching: 8, with: Self.littleEndian(m)))
            }
        }
        // m claiming more or fewer bits than the array holds.
        #expect(throws: SummaryFormatError.truncated) {
            try BloomFilter(serialized: Self.resealed(bytes, patching: 8, with: Self.littleEndian(1024)))
        }
        #expect(throws: SummaryFormatError.trailingBytes(64 / 8)) {
            try BloomFilter(serialized: Self.resealed(bytes, patching: 8, with: Self.littleEndian(896)))
        }
        #expect(throws: SummaryFormatError.invalidCount(.max)) {
            try BloomFilter(serialized: Self.resealed(bytes, patching: 16, with: Self.littleEndian(.max)))
        }
    }

    @Test func oversizedFilterAndDeltaBytesAreRejectedBeforeParsing() {
        let huge = [UInt8](repeating: 0, count: BloomFilter.maximumSerializedSize + 1)
        #expect(throws: SummaryFormatError.tooLarge(byteCount: huge.count, limit: BloomFilter.maximumSerializedSize)) {
            try BloomFilter(serialized: huge)
        }
        #expect(throws: SummaryFormatError.tooLarge(byteCount: huge.count, limit: SummaryDelta.maximumSerializedSize)) {
            try SummaryDelta(serialized: huge)
        }
        #expect(SummaryDelta.apply(huge, to: SummaryDecodingTests.sampleFilter().serialized()) == nil)
    }

    @Test func everyTruncationOfADeltaThrows() {
        let bytes = Self.sampleDelta().serialized()
        for length in 0..<bytes.count {
            #expect(throws: SummaryFormatError.self, "length \(length)") { try SummaryDelta(serialized: Array(bytes.prefix(length))) }
        }
    }

    @Test func everySingleByteChangeOfADeltaThrows() {
        let bytes = Self.sampleDelta().serialized()
        var rng = SplitMix64(seed: 15)
        for offset in 0..<bytes.count {
            for _ in 0..<8 {
                var tampered = bytes
                tampered[offset] ^= UInt8.random(in: 1...255, using: &rng)
                #expect(throws: SummaryFormatError.self, "offset \(offset)") { try SummaryDelta(serialized: tampered) }
            }
        }
    }

    /// Builds a delta body by hand (valid checksum) to reach each position check.
    static func handmadeDelta(m: UInt64 = 960, base: UInt64 = 1, new: UInt64 = 2,
                              body: (inout ByteWriter) -> Void) -> [UInt8] {
        var writer = ByteWriter()
        SummaryWireFormat.writePrefix(magic: SummaryWireFormat.deltaMagic, hashCount: 7, into: &writer)
        writer.appendLittleEndian(m)
        writer.appendLittleEndian(base)
        writer.appendLittleEndian(new)
        writer.appendLittleEndian(UInt64(10))
        body(&writer)
        SummaryWireFormat.seal(&writer)
        return writer.bytes
    }

    @Test func deltaFieldChecksWithValidChecksums() throws {
        let valid = Self.handmadeDelta { $0.appendVarint(3); $0.appendVarint(5); $0.appendVarint(1); $0.appendVarint(900) }
        #expect(try SummaryDelta(serialized: valid).positions == [5, 6, 906])

        #expect(throws: SummaryFormatError.invalidPositions("not strictly ascending")) {
            try SummaryDelta(serialized: Self.handmadeDelta { $0.appendVarint(2); $0.appendVarint(5); $0.appendVarint(0) })
        }
        #expect(throws: SummaryFormatError.invalidPositions("position beyond m")) {
            try SummaryDelta(serialized: Self.handmadeDelta { $0.appendVarint(2); $0.appendVarint(500); $0.appendVarint(460) })
        }
        #expect(throws: SummaryFormatError.invalidPositions("position beyond m")) {
            try SummaryDelta(serialized: Self.handmadeDelta { $0.appendVarint(1); $0.appendVarint(.max) })
        }
        #expect(throws: SummaryFormatError.self) {
            try SummaryDelta(serialized: Self.handmadeDelta { $0.appendVarint(1_000_000); $0.appendVarint(1) })
        }
        #expect(throws: SummaryFormatError.trailingBytes(1)) {
            try SummaryDelta(serialized: Self.handmadeDelta { $0.appendVarint(1); $0.appendVarint(1); $0.append(0) })
        }
        #expect(throws: SummaryFormatError.malformedVarint) {  // 1 encoded non-minimally as 0x81 0x00
            try SummaryDelta(serialized: Self.handmadeDelta { $0.appendVarint(1); $0.append(0x81); $0.append(0x00) })
        }
        #expect(throws: SummaryFormatError.malformedVarint) {  // 11 continuation bytes
            try SummaryDelta(serialized: Self.handmadeDelta { $0.appendVarint(1); $0.append(contentsOf: [UInt8](repeating: 0xFF, count: 11)) })
        }
        #expect(throws: SummaryFormatError.invalidGenerations(base: 5, new: 5)) {
            try SummaryDelta(serialized: Self.handmadeDelta(base: 5, new: 5) { $0.appendVarint(0) })
        }
        #expect(throws: SummaryFormatError.invalidGeometry(bitCount: 1000, hashCount: 7)) {
            try SummaryDelta(serialized: Self.handmadeDelta(m: 1000) { $0.appendVarint(0) })
        }
        #expect(throws: SummaryFormatError.badMagic) {
            try SummaryDelta(serialized: Self.sampleFilter().serialized())
        }
    }

    @Test func varintsRoundTripAtEveryLength() throws {
        var writer = ByteWriter()
        let values: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, 1 << 35, .max - 1, .max]
        for value in values { writer.appendVarint(value) }
        var reader = ByteReader(writer.bytes)
        for value in values { #expect(try reader.readVarint() == value) }
        #expect(reader.remaining == 0)
    }
}
