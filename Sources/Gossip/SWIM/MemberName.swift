extension SWIM {
    /// What a member name may be: 1 to 253 ASCII letters, digits, `-`, `.`
    /// and `_`, starting with a letter or a digit.
    ///
    /// The set holds every host name (RFC 1123 labels joined by dots),
    /// Kubernetes node name (a DNS subdomain, at most 253 characters) and the
    /// Nomad node names deployments use (the host name by default), plus `_`,
    /// which some host names carry. Nothing else: names travel to every
    /// member and end up in logs, metrics labels, status pages and the
    /// `members` output, where a newline, an escape sequence or a look-alike
    /// letter would forge or hide lines. Checked when a name is decoded from
    /// the wire and when the command line accepts `--name`.
    public enum MemberName {
        /// 253, the longest DNS name and Kubernetes node name.
        public static let maximumLength = 253

        /// The rule, for error messages.
        public static let rule = "1 to \(maximumLength) ASCII letters, digits, '-', '.' and '_', starting with a letter or a digit"

        public static func isValid(_ name: String) -> Bool { isValid(utf8: name.utf8) }

        /// `isValid` on raw bytes (the decoder checks before making a string).
        public static func isValid(utf8 bytes: some Collection<UInt8>) -> Bool {
            guard let first = bytes.first, bytes.count <= maximumLength, isLetterOrDigit(first) else { return false }
            return bytes.allSatisfy { isLetterOrDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") }
        }

        static func isLetterOrDigit(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        }
    }
}
