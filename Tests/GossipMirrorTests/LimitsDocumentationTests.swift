import Foundation
import Gossip
import Registry
import Testing

/// The "Limits" table of `docs/configuration.md` against the code: every
/// documented default is the code's value, every limit the code lists
/// (`SWIM.Limits.documented`, `HTTPServerLimits.documented`) is in the
/// table, and the table names no limit the code does not have.
@Suite struct LimitsDocumentationTests {
    static let code = SWIM.Limits.documented + HTTPServerLimits.documented

    struct Row {
        var key: String
        var defaultText: String
        var configurable: String
    }

    /// The rows of the table under `## Limits`, keyed by the first column's code name.
    static func table() throws -> [Row] {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "\n## Limits\n").dropFirst().first, "no \"## Limits\" section")
        let body = section.components(separatedBy: "\n## ").first ?? section
        return body.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("| `") else { return nil }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4 else { return nil }
            return Row(key: cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`")), defaultText: cells[2], configurable: cells[3])
        }
    }

    /// `2048`, `2^62`, `65,507 B`, `1 MiB`, `10 s`, `500 ms`; nil otherwise.
    static func parse(_ text: String) -> DocumentedLimit.Value? {
        let plain = text.replacingOccurrences(of: ",", with: "")
        if plain.hasPrefix("2^"), let exponent = Int(plain.dropFirst(2)), exponent < 63 { return .count(1 << exponent) }
        let parts = plain.split(separator: " ")
        guard let number = parts.first.flatMap({ Int($0) }) else { return nil }
        switch parts.count == 2 ? String(parts[1]) : "" {
        case "": return .count(number)
        case "B": return .bytes(number)
        case "KiB": return .bytes(number << 10)
        case "MiB": return .bytes(number << 20)
        case "ms": return .duration(.milliseconds(number))
        case "s": return .duration(.seconds(number))
        case "min": return .duration(.seconds(60 * number))
        case "h": return .duration(.seconds(3600 * number))
        default: return nil
        }
    }

    @Test func everyLimitInTheCodeIsDocumented() throws {
        let documented = Set(try Self.table().map(\.key))
        for limit in Self.code {
            #expect(documented.contains(limit.key), "\(limit.key) is not in the Limits table of docs/configuration.md")
        }
    }

    @Test func everyDocumentedLimitIsInTheCode() throws {
        let rows = try Self.table()
        #expect(rows.count == Set(rows.map(\.key)).count, "a limit is documented twice")
        let keys = Set(Self.code.map(\.key))
        #expect(Self.code.count == keys.count, "a limit is listed twice in the code")
        for row in rows { #expect(keys.contains(row.key), "\(row.key) is documented but not in the code's list") }
    }

    @Test func documentedDefaultsAreTheCodes() throws {
        let rows = Dictionary(uniqueKeysWithValues: try Self.table().map { ($0.key, $0) })
        for limit in Self.code {
            guard let row = rows[limit.key] else { continue }
            #expect(Self.parse(row.defaultText) == limit.value, "\(limit.key): documented \(row.defaultText), code \(limit.value)")
            if let option = limit.option {
                #expect(row.configurable.contains("`\(option)`"), "\(limit.key): the option \(option) is not documented")
            } else {
                #expect(row.configurable.hasPrefix("no"), "\(limit.key) is fixed in code but documented as configurable")
            }
        }
    }

    @Test(arguments: [
        ("2048", DocumentedLimit.Value.count(2048)), ("2^24", .count(1 << 24)), ("65,507 B", .bytes(65_507)),
        ("1 MiB", .bytes(1 << 20)), ("10 s", .duration(.seconds(10))), ("500 ms", .duration(.milliseconds(500))),
    ])
    func theParserReadsEachForm(_ text: String, _ value: DocumentedLimit.Value) {
        #expect(Self.parse(text) == value)
    }
}
