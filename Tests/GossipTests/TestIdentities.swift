import Gossip

extension MemberIdentity {
    /// A fixed identity per member name, so that tests can sign records in
    /// any member's name and runs are reproducible. Tests only: the seed is
    /// the name, padded.
    static func named(_ name: String) -> MemberIdentity {
        MemberIdentity(seed: Array((name + String(repeating: "~", count: 32)).utf8.prefix(32)))
    }
}
