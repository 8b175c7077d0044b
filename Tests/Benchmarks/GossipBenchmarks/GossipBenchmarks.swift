import Benchmark
import Foundation
import CSodium
import Gossip

/// Sealing and opening every gossip datagram and stream chunk, beside the
/// bare libsodium call on the same bytes (the baseline: what the cipher
/// alone costs; the rest is the envelope's header, timestamp and copies),
/// and decoding a full datagram.
let benchmarks: @Sendable () -> Void = {
    // `scripts/bench/micro.sh --quick`: a check that everything runs, not a measurement.
    let quick = ProcessInfo.processInfo.environment["BENCH_QUICK"] == "1"
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, warmupIterations: 10,
        maxDuration: quick ? .milliseconds(200) : .seconds(2), maxIterations: 1_000_000)

    for size in [Sizes.datagram, Sizes.chunk] {
        Benchmark("envelope seal, \(size) bytes") { benchmark in
            let (envelope, keyring, body) = (Fixtures.envelope, Fixtures.keyring, Fixtures.body(size))
            for _ in benchmark.scaledIterations {
                blackHole(envelope.seal(body, with: keyring, timestamp: 1_700_000_000_000))
            }
        }

        Benchmark("envelope open, \(size) bytes") { benchmark in
            let (envelope, keyring) = (Fixtures.envelope, Fixtures.keyring)
            let sealed = envelope.seal(Fixtures.body(size), with: keyring, timestamp: 1_700_000_000_000)
            for _ in benchmark.scaledIterations {
                blackHole(try? envelope.open(sealed, with: keyring))
            }
        }

        Benchmark("baseline: crypto_aead_xchacha20poly1305_ietf_encrypt, \(size) bytes") { benchmark in
            let body = Fixtures.body(size)
            let key = Fixtures.keyring.primary.bytes
            let nonce = [UInt8](repeating: 7, count: 24)
            var out = [UInt8](repeating: 0, count: size + 16)
            var written: UInt64 = 0
            for _ in benchmark.scaledIterations {
                out.withUnsafeMutableBufferPointer { o in
                    _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                        o.baseAddress!, &written, body, UInt64(body.count), nil, 0, nil, nonce, key)
                }
                blackHole(written)
            }
        }
    }

    Benchmark("datagram decode (WireCodec.decodePacket), a ping with piggybacked updates") { benchmark in
        let bytes = WireCodec.encode(Fixtures.packet)
        for _ in benchmark.scaledIterations {
            blackHole(try? WireCodec.decodePacket(bytes))
        }
    }
}

enum Sizes {
    /// The `lan` profile's packet budget.
    static let datagram = 1400
    /// One full stream chunk (`StreamChunk.capacity`).
    static let chunk = 16 << 10
}

enum Fixtures {
    static let envelope = Envelope(label: "gossip-mirror")
    static let keyring = try! Keyring([ClusterKey.generate()])

    static func body(_ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) } }

    /// A ping carrying as many alive updates as fit a 1400-byte datagram.
    static let packet: SWIM.Packet = {
        let from = SWIM.Sender(name: "node-0001", endpoint: SWIM.Endpoint(host: "10.0.0.1", port: 7946))
        var updates: [SWIM.Update] = []
        var budget = Sizes.datagram - WireCodec.envelopeReserve - 40
        var i = 2
        while true {
            let state = SWIM.Member(
                name: "node-\(1000 + i)", endpoint: SWIM.Endpoint(host: "10.0.\(i / 256).\(i % 256)", port: 7946),
                incarnation: 3, status: .alive, metadata: ["registry": "10.0.\(i / 256).\(i % 256):5000"]
            ).state
            let update = SWIM.Update.alive(state)
            budget -= WireCodec.encodedSize(of: update)
            guard budget >= 0 else { break }
            updates.append(update)
            i += 1
        }
        return SWIM.Packet(.ping(sequence: 42, target: "node-0002", from: from), updates: updates)
    }()
}
