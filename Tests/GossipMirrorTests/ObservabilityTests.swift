import Foundation
import Gossip
import Logging
import NIOCore
import NIOHTTP1
import Registry
import Testing

@testable import gossip_mirror

/// The executable's decisions, one row per case.
struct StatusAccessTests {
    static let key = ClusterKey.generate()
    static let access = StatusAccess(trustedNetworks: [CIDR("10.1.0.0/16")!], credentials: PeerCredentials(nodeName: "this-node") { [key] })

    static func request(_ path: String, from ip: String, token: String? = nil) throws -> HTTPRequest {
        var headers = HTTPHeaders()
        if let token { headers.add(name: PeerCredentials.tokenHeader, value: token) }
        return HTTPRequest(method: .GET, uri: path, headers: headers, remoteAddress: try SocketAddress(ipAddress: ip, port: 40000))
    }

    @Test(arguments: [
        // path, client, allowed
        ("/metrics", "192.0.2.7", true),
        ("/healthz", "192.0.2.7", true),
        ("/readyz", "192.0.2.7", true),
        ("/status.json", "192.0.2.7", false),
        ("/status", "192.0.2.7", false),
        ("/", "192.0.2.7", false),
        ("/locate", "192.0.2.7", false),
        ("/metrics/../status.json", "192.0.2.7", false),
        ("/anything-new", "192.0.2.7", false),
        ("/status.json", "127.0.0.1", true),
        ("/status.json", "127.9.8.7", true),
        ("/status.json", "::1", true),
        ("/status.json", "10.1.200.3", true),
        ("/status.json", "::ffff:10.1.200.3", true),
        ("/status.json", "10.2.0.1", false),
        ("/status.json", "fd00::1", false),
    ])
    func withoutToken(path: String, client: String, allowed: Bool) async throws {
        #expect(await Self.access.allows(try Self.request(path, from: client)) == allowed)
    }

    @Test func aTokenForThisRequestToThisNodeIsAcceptedAndNoOther() async throws {
        let credentials = PeerCredentials(nodeName: "client") { [Self.key] }
        let token = try #require(await credentials.token(method: "GET", target: "/status.json", destination: "this-node"))
        #expect(await Self.access.allows(try Self.request("/status.json", from: "192.0.2.7", token: token)))
        #expect(!(await Self.access.allows(try Self.request("/locate?ref=x", from: "192.0.2.7", token: token))))
        let elsewhere = try #require(await credentials.token(method: "GET", target: "/status.json", destination: "other-node"))
        #expect(!(await Self.access.allows(try Self.request("/status.json", from: "192.0.2.7", token: elsewhere))))
        let stranger = PeerCredentials(nodeName: "client") { [ClusterKey.generate()] }
        let foreign = try #require(await stranger.token(method: "GET", target: "/status.json", destination: "this-node"))
        #expect(!(await Self.access.allows(try Self.request("/status.json", from: "192.0.2.7", token: foreign))))
        #expect(!(await Self.access.allows(try Self.request("/status.json", from: "192.0.2.7", token: ""))))
    }
}

struct JSONLogHandlerTests {
    @Test(arguments: [
        ("plain", "\"plain\""),
        ("quote \" and \\ backslash", "\"quote \\\" and \\\\ backslash\""),
        ("line\nbreak\ttab\r", "\"line\\nbreak\\ttab\\r\""),
        ("nul \u{0} bell \u{7} del \u{7F}", "\"nul \\u0000 bell \\u0007 del \\u007f\""),
        ("ünïcödé ✓", "\"ünïcödé ✓\""),
        ("separator \u{2028}", "\"separator \\u2028\""),
    ])
    func quoting(text: String, expected: String) {
        #expect(JSONLogHandler.quote(text) == expected)
    }

    @Test func aLineIsOneParsableObjectWithMetadataAtTheTop() throws {
        let line = JSONLogHandler.line(
            time: Date(timeIntervalSince1970: 1_700_000_000.123), level: .warning, logger: "gossip-mirror", message: "request\nwith newline",
            metadata: ["status": "404", "message": "clash", "nested": .dictionary(["a": .array(["1", "2"])])])
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2023-11-14T22:13:20.123Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["message"] as? String == "request\nwith newline")
        #expect(object["meta_message"] as? String == "clash")
        #expect(object["status"] as? String == "404")
        #expect((object["nested"] as? [String: Any])?["a"] as? [String] == ["1", "2"])
    }
}

struct BuildInfoTests {
    @Test(arguments: [
        // build ID bytes, commit
        (Array(repeating: UInt8(0xab), count: 20) + [0x67, 0x6d, 0x00], String(repeating: "ab", count: 20)),
        (Array(repeating: UInt8(0x01), count: 20) + [0x67, 0x6d, 0x01], String(repeating: "01", count: 20) + "-dirty"),
        (Array(repeating: UInt8(0xab), count: 20), nil),
        (Array(repeating: UInt8(0xab), count: 20) + [0x67, 0x6e, 0x00], nil),
        ([], nil),
    ] as [([UInt8], String?)])
    func commitFromBuildID(id: [UInt8], commit: String?) {
        #expect(ELFBuildID.commit(fromBuildID: id) == commit)
    }

    @Test func notesAreWalkedToTheGNUBuildID() {
        func note(name: String, type: UInt32, desc: [UInt8]) -> [UInt8] {
            var out: [UInt8] = []
            let nameBytes = Array(name.utf8) + [0]
            for v in [UInt32(nameBytes.count), UInt32(desc.count), type] { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
            out += nameBytes + Array(repeating: 0, count: (4 - nameBytes.count % 4) % 4)
            out += desc + Array(repeating: 0, count: (4 - desc.count % 4) % 4)
            return out
        }
        let id: [UInt8] = [1, 2, 3, 4, 5]
        let notes = note(name: "GNU", type: 1, desc: [9, 9, 9, 9]) + note(name: "Go", type: 3, desc: [7]) + note(name: "GNU", type: 3, desc: id)
        #expect(notes.withUnsafeBytes { ELFBuildID.buildID(inNotes: $0) } == id)
        // Truncated: no read past the end.
        #expect(Array(notes.prefix(notes.count - 4)).withUnsafeBytes { ELFBuildID.buildID(inNotes: $0) } == nil)
        let lying = [UInt8](repeating: 0xff, count: 12)
        #expect(lying.withUnsafeBytes { ELFBuildID.buildID(inNotes: $0) } == nil)
    }

    @Test func theRunningBinaryHasABuildIDNote() {
        // Test binaries are linked with a build ID too (swiftc passes --build-id on Linux).
        #expect(ELFBuildID.current()?.isEmpty == false)
    }
}

struct ProcessMetricsTests {
    @Test func statFieldsAfterACommandNameWithSpacesAndParentheses() throws {
        let line = "4242 (gossip (mirror) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 123456 987654321 2048 18446744073709551615"
        let stat = try #require(ProcessMetrics.parseStat(line))
        #expect(stat.userTicks == 250 && stat.systemTicks == 75 && stat.startTicks == 123456)
        #expect(stat.virtualBytes == 987654321 && stat.residentPages == 2048)
        #expect(ProcessMetrics.parseStat("4242 (truncated) S 1 2") == nil)
    }

    @Test func theExpositionHasHelpAndTypeForEachMetric() {
        let text = ProcessMetrics.exposition()
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_max_fds"] {
            #expect(text.contains("# HELP \(name) ") && text.contains("# TYPE \(name) "), "\(name) missing:\n\(text)")
        }
    }
}

struct StatusPageHTMLTests {
    @Test(arguments: [
        (["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"], true),
        (["*/*"], false),
        ([], false),
        (["application/json"], false),
        (["text/html;q=0"], false),
        (["text/plain, text/html; q=0.5"], true),
    ])
    func contentNegotiation(accept: [String], html: Bool) {
        #expect(StatusPageHTML.isPreferred(accept: accept) == html)
    }

    @Test func valuesFromTheNetworkAreEscaped() {
        #expect(StatusPageHTML.e("<script>\"&'") == "&lt;script&gt;&quot;&amp;&#39;")
    }
}

struct RingTests {
    @Test func keepsTheNewestNewestFirst() {
        var ring = Ring<Int>(capacity: 3)
        #expect(ring.newestFirst.isEmpty)
        for i in 1...2 { ring.append(i) }
        #expect(ring.newestFirst == [2, 1])
        for i in 3...7 { ring.append(i) }
        #expect(ring.newestFirst == [7, 6, 5])
    }
}
