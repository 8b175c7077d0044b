/// Non-negative decimal numbers as they come from the network: ASCII digits
/// only (no sign, no spaces, no `0x`), at most `maximumDigits` of them.
///
/// With at most 18 digits every value is below 10^18 < `Int64.max`
/// (about 9.22 × 10^18), so parsing cannot overflow and sums or differences
/// of two such values cannot either. Swift's `Int64(_:)` is not enough: it
/// accepts a sign, and `-9223372036854775808` is a valid `Int64` whose
/// negation traps (issue 9, finding 1).
public enum StrictDecimal {
    /// The most digits any number read from the network may have.
    public static let maximumDigits = 18

    /// The value of `text`, or nil unless it is 1 to `maximumDigits` ASCII digits.
    public static func parse<S: StringProtocol>(_ text: S, maximumDigits: Int = StrictDecimal.maximumDigits) -> Int64? {
        let limit = min(maximumDigits, Self.maximumDigits)
        var value: Int64 = 0
        var count = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), count < limit else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            count += 1
        }
        return count > 0 ? value : nil
    }
}
