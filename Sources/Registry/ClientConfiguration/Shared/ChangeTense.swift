/// Whether a message about a configuration change is said before it
/// happens (a dry run: "would create …") or after ("created …").
public enum ChangeTense: Sendable {
    case planned, done
}
