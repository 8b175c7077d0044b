import Foundation
import TestSupport
@testable import Catalog

extension SplitMix64 {
    /// 32 random bytes: a random sha256 output.
    mutating func summaryKey() -> SummaryKey { SummaryKey(bytes: bytes(32))! }

    mutating func digest() -> Digest { Digest(sha256: bytes(32))! }
}
