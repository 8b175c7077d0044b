import Foundation
import Logging
import Synchronization

/// `--log-format json`: one JSON object a line on standard error, for log
/// collectors (Loki, Elasticsearch, Cloud Logging) that parse fields.
///
/// Fixed keys `time` (RFC 3339, UTC, milliseconds), `level`, `logger`,
/// `message`; then every metadata key at the top level (a key that clashes
/// with a fixed one gets a `meta_` prefix). Lines are written with one
/// `write(2)` each, so lines from concurrent tasks never interleave.
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    let label: String
    private let sink: @Sendable (String) -> Void

    init(label: String, sink: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.sink = sink
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static let fixedKeys: Set<String> = ["time", "level", "logger", "message"]

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        sink(Self.line(time: Date(), level: event.level, logger: label, message: "\(event.message)", metadata: merged))
    }

    /// One JSON object, keys in a fixed order then metadata keys sorted.
    static func line(time: Date, level: Logger.Level, logger: String, message: String, metadata: Logger.Metadata) -> String {
        var out = "{\"time\":\(quote(timestamp(time))),\"level\":\(quote(level.rawValue)),\"logger\":\(quote(logger)),\"message\":\(quote(message))"
        for key in metadata.keys.sorted() {
            let name = fixedKeys.contains(key) ? "meta_" + key : key
            out += ",\(quote(name)):\(json(metadata[key]!))"
        }
        return out + "}\n"
    }

    static func json(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let s): return quote(s)
        case .stringConvertible(let c): return quote(c.description)
        case .array(let values): return "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let d): return "{" + d.keys.sorted().map { "\(quote($0)):\(json(d[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal (RFC 8259 section 7): quotes, backslashes and
    /// control characters escaped, everything else as UTF-8.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20 || c.value == 0x7F || c.value == 0x2028 || c.value == 0x2029:
                out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis % 1000))
    }

    @Sendable static func standardError(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { if n < 0 && errno == EINTR { continue } else { return } }
                offset += n
            }
        }
    }
}
