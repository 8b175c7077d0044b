import ArgumentParser

/// A duration on the command line: a whole number with a unit, `500ms`,
/// `10s`, `2m` or `1h`.
struct DurationArgument: ExpressibleByArgument, Hashable, CustomStringConvertible {
    let duration: Duration
    let description: String

    init(_ duration: Duration, _ text: String) {
        self.duration = duration
        self.description = text
    }

    init?(argument: String) {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (unit, milliseconds) in units where argument.hasSuffix(unit) {
            let number = argument.dropLast(unit.count)
            // At most 9 digits: no overflow below, and nothing absurd.
            guard !number.isEmpty, number.count <= 9, number.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(number)
            else { return nil }
            self.init(.milliseconds(value * milliseconds), argument)
            return
        }
        return nil
    }

    var defaultValueDescription: String { description }
}
