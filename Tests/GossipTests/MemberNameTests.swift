import Testing

@testable import Gossip

/// Member names and text bound for logs (issue 9, finding 12).
@Suite struct MemberNameTests {
    @Test func namesTable() {
        let rows: [(name: String, valid: Bool)] = [
            ("node-1", true), ("n", true), ("7", true), ("Node_A.example.com", true),
            ("ip-10-0-0-1.ec2.internal", true), (String(repeating: "a", count: 253), true),
            ("", false), (String(repeating: "a", count: 254), false), ("-node", false), (".node", false), ("_node", false),
            ("node 1", false), ("node\n1", false), ("node\r", false), ("node\t1", false), ("node/1", false), ("node:1", false),
            ("nöde", false), ("node\u{0}", false), ("node\u{202E}1", false),
        ]
        for row in rows {
            #expect(SWIM.MemberName.isValid(row.name) == row.valid, "\(row.name.debugDescription)")
        }
    }

    @Test func logTextEscapesAndBounds() {
        #expect(LogText.escaped("node-1") == "node-1")
        #expect(LogText.escaped("a\nINFO forged") == "a\\nINFO forged")
        #expect(LogText.escaped("\u{1B}[2J") == "\\u{1b}[2J")
        #expect(LogText.escaped("tab\there\\") == "tab\\there\\\\")
        #expect(LogText.escaped("ö") == "\\u{f6}")
        #expect(LogText.escaped(String(repeating: "x", count: 100), limit: 10) == String(repeating: "x", count: 10) + "…")
    }
}
