/// The SWIM membership protocol as a pure state machine.
///
/// References used throughout this module:
/// - Das, Gupta, Motivala: "SWIM: Scalable Weakly-consistent Infection-style
///   Process Group Membership Protocol" (DSN 2002) — probing, indirect probing,
///   suspicion, infection-style dissemination.
/// - Dadgar, Phillips, Currey: "Lifeguard: Local Health Awareness for More
///   Accurate Failure Detection" (2018) — local health multiplier, dynamic
///   suspicion timeouts, buddy system, nacks.
/// - hashicorp/memberlist — production choices (push/pull anti-entropy, gossip
///   to the dead, retransmit limits, profile defaults).
///
/// `SWIM.Instance` performs no I/O, reads no clock and owns its randomness:
/// events go in with the current `SWIM.Instant`, directives come out, and a
/// shell (`GossipNode` over SwiftNIO, or the test simulator) carries them out.
public enum SWIM {}
