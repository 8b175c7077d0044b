import Testing

@testable import Registry

/// The lexer behind keeping files byte for byte: one row per construct.
@Suite struct TOMLOutlineTests {
    static let documents: [(name: String, text: String, headers: [[String]], rootKeys: [[String]])] = [
        ("empty", "", [], []),
        ("root keys only", "a = 1\nb = \"x\" # c\n", [], [["a"], ["b"]]),
        ("tables", "x = 1\n[t]\ny = 2\n[[arr]]\n[t.\"q.d\"]\n", [["t"], ["arr"], ["t", "q.d"]], [["x"]]),
        ("quoted and dotted keys", "\"a b\".'c' . d = 1\n", [], [["a b", "c", "d"]]),
        ("indented header", "  [ host . \"https://x\" ]  # note\n", [["host", "https://x"]], []),
        ("multi-line array with a [ line", "client = [\n  [\"a\", \"b\"],\n  # [not a table]\n]\n[h]\n", [["h"]], [["client"]]),
        ("multi-line basic string", "s = \"\"\"\n[not a table]\n\\\"\"\" still\"\"\"\n[h]\n", [["h"]], [["s"]]),
        ("multi-line literal string", "s = '''\n[not a table]\n'''\n[h]\n", [["h"]], [["s"]]),
        ("inline table", "t = { a = [1, 2], b = \"]\" }\n[h]\n", [["h"]], [["t"]]),
        ("date time with a space", "d = 1979-05-27 07:32:00Z\n", [], [["d"]]),
        ("CRLF", "a = 1\r\n[h]\r\nb = 2\r\n", [["h"]], [["a"]]),
        ("byte order mark", "\u{FEFF}a = 1\n", [], [["a"]]),
        ("escapes", "a = \"\\u0041\\t\\\"\"\n", [], [["a"]]),
    ]

    @Test(arguments: documents.indices)
    func outlines(_ row: Int) throws {
        let document = Self.documents[row]
        let outline = try TOMLOutline(Array(document.text.utf8))
        #expect(outline.tables.map(\.header) == document.headers, "\(document.name)")
        #expect(outline.root.keys.map(\.path) == document.rootKeys, "\(document.name)")
        // The tables cover the file from the root's end, without gaps.
        var end = outline.rootEnd
        for table in outline.tables {
            #expect(table.bytes.lowerBound == end, "\(document.name)")
            end = table.bytes.upperBound
        }
        #expect(end == document.text.utf8.count, "\(document.name)")
    }

    @Test func stringsAreDecoded() throws {
        let outline = try TOMLOutline(Array("a = \"\\u0041\\t\\\"x\"\nb = 'C:\\\\n'\nc = 3\n".utf8))
        #expect(outline.root.string("a") == "A\t\"x")
        #expect(outline.root.string("b") == "C:\\\\n")
        #expect(outline.root.string("c") == nil)
        #expect(outline.root.keys.last?.raw == "3")
    }

    static let malformed: [(text: String, line: Int)] = [
        ("a = \"open\n", 1),
        ("a = 1\n[t\n", 2),
        ("a = [1, 2\n", 2),
        ("a = 1 b = 2\n", 1),
        ("= 1\n", 1),
        ("a = \"\"\"never closed\n\n", 3),
        ("a = \"\\q\"\n", 1),
        ("x = 1\ny\n", 2),
        ("a = " + String(repeating: "[", count: 100) + "\n", 1),
    ]

    @Test(arguments: malformed.indices)
    func refusesWithTheLine(_ row: Int) {
        let (text, line) = Self.malformed[row]
        let error = #expect(throws: TOMLOutline.Failure.self) { try TOMLOutline(Array(text.utf8)) }
        #expect(error?.line == line, "\(text.debugDescription): \(String(describing: error))")
    }
}
