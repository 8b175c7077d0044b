import Foundation
import Logging
import Registry
import Synchronization

/// The last registry requests and the last errors of this node, for the
/// status page: two bounded rings, newest first when read.
final class RecentActivity: HTTPExchangeObserver, Sendable {
    struct RequestEntry: Codable, Sendable, Hashable {
        var time: Date
        var method: String
        var path: String
        var status: Int
        /// `local`, `peer`, `miss`, or nil for requests that were no lookup.
        var source: String?
        var peer: String?
        var bytes: Int64
        var milliseconds: Double
        var client: String?
        var aborted: String?
    }

    struct ErrorEntry: Codable, Sendable, Hashable {
        var time: Date
        var level: String
        var message: String
        var details: String
    }

    let capacity: Int
    private let requests: Mutex<Ring<RequestEntry>>
    private let errors: Mutex<Ring<ErrorEntry>>

    init(capacity: Int = 50) {
        self.capacity = capacity
        requests = Mutex(Ring(capacity: capacity))
        errors = Mutex(Ring(capacity: capacity))
    }

    var lastRequests: [RequestEntry] { requests.withLock { $0.newestFirst } }
    var lastErrors: [ErrorEntry] { errors.withLock { $0.newestFirst } }

    func exchangeFinished(_ exchange: HTTPExchange) {
        let request = RequestEntry(
            time: Date(), method: exchange.request.method.rawValue, path: String(exchange.request.uri.prefix(512)),
            status: Int(exchange.status.code), source: exchange.annotation("source"), peer: exchange.annotation("peer"),
            bytes: exchange.bytes, milliseconds: Double(exchange.duration.components.attoseconds / 1_000_000_000_000) / 1000
                + Double(exchange.duration.components.seconds) * 1000,
            client: exchange.request.remoteAddress?.ipAddress, aborted: exchange.error)
        requests.withLock { $0.append(request) }
    }

    func recordError(level: Logger.Level, message: String, metadata: Logger.Metadata) {
        let details = metadata.keys.sorted().map { "\($0)=\(metadata[$0]!)" }.joined(separator: " ")
        let entry = ErrorEntry(time: Date(), level: level.rawValue, message: String(message.prefix(1000)), details: String(details.prefix(2000)))
        errors.withLock { $0.append(entry) }
    }
}

/// A fixed-size ring: appending past `capacity` drops the oldest.
struct Ring<Element: Sendable>: Sendable {
    let capacity: Int
    private var storage: [Element] = []
    private var next = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    mutating func append(_ element: Element) {
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[next] = element
        }
        next = (next + 1) % capacity
    }

    var newestFirst: [Element] {
        guard storage.count == capacity else { return storage.reversed() }
        return (Array(storage[next...]) + Array(storage[..<next])).reversed()
    }
}
