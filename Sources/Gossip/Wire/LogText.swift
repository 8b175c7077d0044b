/// Text from outside (the network, the command line, the host) made safe for
/// one log line: printable ASCII kept, everything else escaped as `\n`,
/// `\t`, `\\` or `\u{…}`, and cut to `limit` characters with `…`.
///
/// Names and hosts are validated when decoded, so they need none of this;
/// it is for what is refused (an invalid name in an error message) and for
/// anything that is only bounded, not validated.
public enum LogText {
    public static func escaped(_ text: String, limit: Int = 80) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            let piece: String
            switch scalar {
            case "\n": piece = "\\n"
            case "\r": piece = "\\r"
            case "\t": piece = "\\t"
            case "\\": piece = "\\\\"
            case " "..."~": piece = String(scalar)
            default: piece = "\\u{\(String(scalar.value, radix: 16))}"
            }
            guard count < limit else { return out + "…" }
            out += piece
            count += 1
        }
        return out
    }
}
