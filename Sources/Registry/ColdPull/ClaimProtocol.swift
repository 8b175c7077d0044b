import Catalog
import Foundation
import Gossip

/// The claim protocol between a member and the coordinator of a digest, on
/// the registry port like every peer request (cluster token, hop marker):
///
///     GET /_gossip-mirror/v1/claims/<digest>?member=<name>&op=<op>[&unreachable=<name>]
///
/// `op` is `ask` (who fetches this? `unreachable` names a fetcher the asker
/// could not reach), `renew` (the
/// fetcher's ingest is growing), `done` or `failed` (its ingest ended).
/// The answer is one line of text: `fetch`, `follow <member>` or `none` to
/// `ask`; `renewed`, `adopted` or `superseded <member>` to `renew`;
/// `released` to the others.
///
/// GET, although a claim changes state: the peer client (one libcurl multi
/// handle shared with blob transfers) speaks GET and HEAD, and nothing
/// between two nodes can cache or replay it (every request carries a fresh,
/// destination-bound token). The answer is not sealed: whoever can rewrite
/// it can only make the asker fetch from the upstream or follow another
/// member, whose bytes are verified; dropping packets does as much.
public struct ClaimMessage: Hashable, Sendable {
    public enum Operation: Hashable, Sendable {
        case ask(unreachable: String?)
        case renew
        case release(completed: Bool)
    }

    public var digest: Digest
    /// The member asking, renewing or releasing.
    public var member: String
    public var operation: Operation

    public static let pathPrefix = "/_gossip-mirror/v1/claims/"
    /// Longest answer line accepted.
    static let maximumAnswerLength = 16 + SWIM.MemberName.maximumLength

    public init(digest: Digest, member: String, operation: Operation) {
        self.digest = digest
        self.member = member
        self.operation = operation
    }

    /// The request target (path and query), percent-encoded the same way
    /// every time so that the token covers exactly what is sent.
    public var target: String {
        var query = "member=\(Self.encode(member))"
        switch operation {
        case .ask(let unreachable):
            query += "&op=ask"
            if let unreachable { query += "&unreachable=\(Self.encode(unreachable))" }
        case .renew:
            query += "&op=renew"
        case .release(let completed):
            query += completed ? "&op=done" : "&op=failed"
        }
        return Self.pathPrefix + digest.description + "?" + query
    }

    public enum ParseError: Error, Hashable, Sendable {
        case notAClaim
        case invalid(String)
    }

    /// Parses a request's path and (decoded) query strictly.
    public static func parse(path: Substring, query: [String: String]) throws(ParseError) -> ClaimMessage {
        guard path.hasPrefix(pathPrefix) else { throw .notAClaim }
        guard let digest = Digest(path.dropFirst(pathPrefix.count)) else { throw .invalid("not a sha256 digest") }
        guard let member = query["member"], isMemberName(member) else { throw .invalid("missing or bad member") }
        let allowed: Set<String>
        let operation: Operation
        switch query["op"] {
        case "ask":
            let unreachable = query["unreachable"]
            if let unreachable, !isMemberName(unreachable) { throw .invalid("bad unreachable member") }
            operation = .ask(unreachable: unreachable)
            allowed = ["member", "op", "unreachable"]
        case "renew":
            operation = .renew
            allowed = ["member", "op"]
        case "done", "failed":
            operation = .release(completed: query["op"] == "done")
            allowed = ["member", "op"]
        default:
            throw .invalid("op must be ask, renew, done or failed")
        }
        guard Set(query.keys).isSubset(of: allowed) else { throw .invalid("unexpected parameters") }
        return ClaimMessage(digest: digest, member: member, operation: operation)
    }

    /// A member name as SWIM admits it (`SWIM.MemberName`).
    static func isMemberName(_ name: String) -> Bool { SWIM.MemberName.isValid(name) }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// RFC 3986 unreserved characters: everything else is percent-encoded.
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

/// A coordinator's answer, as one line of text.
public enum ClaimAnswer: Hashable, Sendable {
    case decision(ClaimTable.Decision)
    case renewal(ClaimTable.Renewal)
    case released

    public var text: String {
        switch self {
        case .decision(.fetch): "fetch"
        case .decision(.follow(let member)): "follow \(member)"
        case .decision(.none): "none"
        case .renewal(.renewed): "renewed"
        case .renewal(.adopted): "adopted"
        case .renewal(.superseded(let member)): "superseded \(member)"
        case .released: "released"
        }
    }

    /// Parses an answer strictly; nil for anything else.
    public init?(text: some StringProtocol) {
        guard text.utf8.count <= ClaimMessage.maximumAnswerLength else { return nil }
        let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        let member = parts.count == 2 ? String(parts[1]) : nil
        if let member, !ClaimMessage.isMemberName(member) { return nil }
        switch (parts[0], member) {
        case ("fetch", nil): self = .decision(.fetch)
        case ("follow", let member?): self = .decision(.follow(member))
        case ("none", nil): self = .decision(.none)
        case ("renewed", nil): self = .renewal(.renewed)
        case ("adopted", nil): self = .renewal(.adopted)
        case ("superseded", let member?): self = .renewal(.superseded(by: member))
        case ("released", nil): self = .released
        default: return nil
        }
    }
}
