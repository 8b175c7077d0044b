/// Where the tables and keys of a TOML document are: a lexer that knows
/// TOML 1.0's strings, arrays, inline tables and comments, and records the
/// byte range of every table and key without building values (only a key
/// whose value is one string gets that string).
///
/// That is what the writers need to keep someone else's file byte for byte
/// while putting gossip-mirror's tables around it (a `hosts.toml`), and to
/// read the few string keys they look at (`server`, `prefix`, `location`,
/// `version`). A document it cannot lex is refused with its line number:
/// gossip-mirror never rewrites a file it does not understand.
struct TOMLOutline: Sendable {
    /// `key = value` at the start of a line.
    struct Key: Sendable, Equatable {
        /// Dotted key path, unquoted: `host."https://a".ca` is `["host", "https://a", "ca"]`.
        var path: [String]
        /// The value, when it is a single-line basic or literal string.
        var string: String?
        /// The value as written (`3`, `true`, `"a"`, `[1, 2]`).
        var raw: String
        /// From the key's first byte to the end of its value's last line.
        var bytes: Range<Int>
    }

    /// A `[table]` or `[[array.element]]` with its keys; the root table has
    /// an empty header and starts at byte 0.
    struct Table: Sendable {
        var header: [String]
        var isArrayElement: Bool
        /// From the header line's first byte to the next header line (or the end).
        var bytes: Range<Int>
        var keys: [Key]

        func string(_ key: String) -> String? { keys.first { $0.path == [key] }?.string }
    }

    /// Why a document could not be outlined.
    struct Failure: Error, Equatable, Sendable {
        var line: Int
        var reason: String
    }

    var root: Table
    /// The tables after the root, in file order.
    var tables: [Table]

    /// Nesting of arrays and inline tables beyond this is refused (the
    /// lexer recurses; hostile input must not exhaust the stack).
    static let maximumNesting = 32

    init(_ bytes: [UInt8]) throws(Failure) {
        var lexer = Lexer(bytes: bytes)
        var tables: [Table] = []
        var current = Table(header: [], isArrayElement: false, bytes: 0..<0, keys: [])
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { lexer.index = 3 }  // UTF-8 byte order mark
        while let byte = lexer.skipBlankAndComments() {
            let lineStart = lexer.index
            if byte == UInt8(ascii: "[") {
                // The table starts with its line, indentation included.
                var headerStart = lineStart
                while headerStart > 0, bytes[headerStart - 1] == 0x20 || bytes[headerStart - 1] == 0x09 { headerStart -= 1 }
                current.bytes = start..<headerStart
                tables.append(current)
                start = headerStart
                lexer.index += 1
                let isArray = lexer.peek == UInt8(ascii: "[")
                if isArray { lexer.index += 1 }
                let header = try lexer.keyPath()
                try lexer.expect("]")
                if isArray { try lexer.expect("]") }
                try lexer.endOfLine()
                current = Table(header: header, isArrayElement: isArray, bytes: 0..<0, keys: [])
            } else {
                let path = try lexer.keyPath()
                try lexer.expect("=")
                lexer.skipSpaces()
                let valueStart = lexer.index
                let string = try lexer.value(depth: 0)
                let raw = String(decoding: bytes[valueStart..<lexer.index], as: UTF8.self)
                try lexer.endOfLine()
                current.keys.append(Key(path: path, string: string, raw: raw, bytes: lineStart..<lexer.index))
            }
        }
        current.bytes = start..<bytes.count
        tables.append(current)
        root = tables.removeFirst()
        self.tables = tables
    }

    /// The first byte of the first table header: everything before it is
    /// the root table (its keys, comments and blank lines).
    var rootEnd: Int { tables.first?.bytes.lowerBound ?? root.bytes.upperBound }
}

/// The byte-level scanner behind `TOMLOutline`.
private struct Lexer {
    let bytes: [UInt8]
    var index = 0
    var line = 1

    init(bytes: [UInt8]) { self.bytes = bytes }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    func failure(_ reason: String) -> TOMLOutline.Failure { TOMLOutline.Failure(line: line, reason: reason) }

    mutating func skipSpaces() {
        while let byte = peek, byte == 0x20 || byte == 0x09 { index += 1 }
    }

    /// Skips a comment up to (not including) the line end.
    mutating func skipComment() {
        guard peek == UInt8(ascii: "#") else { return }
        while let byte = peek, byte != 0x0A, byte != 0x0D { index += 1 }
    }

    /// Consumes one line end (`\n` or `\r\n`); false if there is none here.
    mutating func newline() -> Bool {
        if peek == 0x0A {
            index += 1
        } else if peek == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A {
            index += 2
        } else {
            return false
        }
        line += 1
        return true
    }

    /// Skips blank lines, indentation and comments; returns the next
    /// significant byte (without consuming it), nil at the end.
    mutating func skipBlankAndComments() -> UInt8? {
        while true {
            skipSpaces()
            skipComment()
            if !newline() { return peek }
        }
    }

    /// Spaces, an optional comment, then a line end or the end of the document.
    mutating func endOfLine() throws(TOMLOutline.Failure) {
        skipSpaces()
        skipComment()
        guard peek == nil || newline() else { throw failure("unexpected text after the value or header") }
    }

    mutating func expect(_ character: Unicode.Scalar) throws(TOMLOutline.Failure) {
        skipSpaces()
        guard peek == UInt8(ascii: character) else { throw failure("expected '\(character)'") }
        index += 1
    }

    /// `a.b."c d".'e'`, with optional spaces around the dots.
    mutating func keyPath() throws(TOMLOutline.Failure) -> [String] {
        var path: [String] = []
        while true {
            skipSpaces()
            guard let byte = peek else { throw failure("expected a key") }
            if byte == UInt8(ascii: "\"") {
                index += 1
                path.append(try basicString())
            } else if byte == UInt8(ascii: "'") {
                index += 1
                path.append(try literalString())
            } else {
                let start = index
                while let byte = peek, Self.isBareKey(byte) { index += 1 }
                guard index > start else { throw failure("expected a key") }
                path.append(String(decoding: bytes[start..<index], as: UTF8.self))
            }
            skipSpaces()
            guard peek == UInt8(ascii: ".") else { return path }
            index += 1
        }
    }

    static func isBareKey(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// Skips one value; returns it when it is a single-line string.
    mutating func value(depth: Int) throws(TOMLOutline.Failure) -> String? {
        guard depth < TOMLOutline.maximumNesting else { throw failure("arrays or inline tables nested too deeply") }
        guard let byte = peek else { throw failure("expected a value") }
        switch byte {
        case UInt8(ascii: "\""):
            if starts(with: "\"\"\"") {
                index += 3
                try multiLineString(quote: UInt8(ascii: "\""), escapes: true)
                return nil
            }
            index += 1
            return try basicString()
        case UInt8(ascii: "'"):
            if starts(with: "'''") {
                index += 3
                try multiLineString(quote: UInt8(ascii: "'"), escapes: false)
                return nil
            }
            index += 1
            return try literalString()
        case UInt8(ascii: "["):
            index += 1
            try array(depth: depth)
            return nil
        case UInt8(ascii: "{"):
            index += 1
            try inlineTable(depth: depth)
            return nil
        default:
            try scalar()
            return nil
        }
    }

    private func starts(with text: String) -> Bool {
        let utf8 = Array(text.utf8)
        return index + utf8.count <= bytes.count && Array(bytes[index..<(index + utf8.count)]) == utf8
    }

    /// The body of a `"…"` string after its opening quote, decoded.
    mutating func basicString() throws(TOMLOutline.Failure) -> String {
        var scalars = String.UnicodeScalarView()
        var start = index
        while true {
            guard let byte = peek, byte != 0x0A, byte != 0x0D else { throw failure("unterminated string") }
            if byte == UInt8(ascii: "\"") {
                scalars.append(contentsOf: String(decoding: bytes[start..<index], as: UTF8.self).unicodeScalars)
                index += 1
                return String(scalars)
            }
            guard byte == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            scalars.append(contentsOf: String(decoding: bytes[start..<index], as: UTF8.self).unicodeScalars)
            index += 1
            guard let escaped = peek else { throw failure("unterminated string") }
            index += 1
            switch escaped {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let count = escaped == UInt8(ascii: "u") ? 4 : 8
                guard index + count <= bytes.count,
                    let value = UInt32(String(decoding: bytes[index..<(index + count)], as: UTF8.self), radix: 16),
                    let scalar = Unicode.Scalar(value)
                else { throw failure("invalid \\u escape") }
                scalars.append(scalar)
                index += count
            default:
                throw failure("invalid escape in a string")
            }
            start = index
        }
    }

    /// The body of a `'…'` string after its opening quote.
    mutating func literalString() throws(TOMLOutline.Failure) -> String {
        let start = index
        while let byte = peek, byte != UInt8(ascii: "'") {
            guard byte != 0x0A, byte != 0x0D else { throw failure("unterminated string") }
            index += 1
        }
        guard peek != nil else { throw failure("unterminated string") }
        defer { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Skips the body of a `"""…"""` or `'''…'''` string, which may span lines
    /// and end with up to two extra quotes.
    mutating func multiLineString(quote: UInt8, escapes: Bool) throws(TOMLOutline.Failure) {
        while let byte = peek {
            if byte == quote, index + 2 < bytes.count, bytes[index + 1] == quote, bytes[index + 2] == quote {
                index += 3
                for _ in 0..<2 where peek == quote { index += 1 }
                return
            }
            if escapes, byte == UInt8(ascii: "\\") {
                index += 1
                if newline() { continue }
            }
            if !newline() { index += 1 }
        }
        throw failure("unterminated multi-line string")
    }

    /// Skips an array after its `[`: values separated by commas, with line
    /// ends and comments anywhere between them.
    mutating func array(depth: Int) throws(TOMLOutline.Failure) {
        while true {
            guard let byte = skipBlankAndComments() else { throw failure("unterminated array") }
            if byte == UInt8(ascii: "]") {
                index += 1
                return
            }
            _ = try value(depth: depth + 1)
            guard let next = skipBlankAndComments() else { throw failure("unterminated array") }
            if next == UInt8(ascii: ",") {
                index += 1
            } else if next != UInt8(ascii: "]") {
                throw failure("expected ',' or ']' in an array")
            }
        }
    }

    /// Skips an inline table after its `{`.
    mutating func inlineTable(depth: Int) throws(TOMLOutline.Failure) {
        skipSpaces()
        if peek == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            _ = try keyPath()
            try expect("=")
            skipSpaces()
            _ = try value(depth: depth + 1)
            skipSpaces()
            guard let byte = peek else { throw failure("unterminated inline table") }
            index += 1
            if byte == UInt8(ascii: "}") { return }
            guard byte == UInt8(ascii: ",") else { throw failure("expected ',' or '}' in an inline table") }
        }
    }

    /// A number, boolean or date-time: up to a space, comment, line end or
    /// delimiter. A date and time separated by a space (`1979-05-27 07:32:00Z`)
    /// are one value.
    mutating func scalar() throws(TOMLOutline.Failure) {
        let start = index
        func isEnd(_ byte: UInt8) -> Bool {
            [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}")].contains(byte)
        }
        while let byte = peek, !isEnd(byte) { index += 1 }
        let isDate = index - start == 10 && bytes[start + 4] == UInt8(ascii: "-") && bytes[start + 7] == UInt8(ascii: "-")
        if isDate, peek == 0x20, index + 1 < bytes.count, (0x30...0x39).contains(bytes[index + 1]) {
            index += 1
            while let byte = peek, !isEnd(byte) { index += 1 }
        }
        guard index > start else { throw failure("expected a value") }
        guard bytes[start..<index].allSatisfy({ ($0 >= 0x21 && $0 < 0x7F) || $0 == 0x20 }) else { throw failure("invalid value") }
    }
}
