/// Where and how `ContainerdStore` reaches a node's containerd.
public struct ContainerdConfiguration: Sendable, Hashable {
    /// The namespace Kubernetes (the CRI plugin) keeps its images in.
    public static let kubernetesNamespace = "k8s.io"
    /// The namespace Docker Engine uses with its containerd image store.
    public static let dockerNamespace = "moby"
    /// The namespace `ctr` uses unless told otherwise.
    public static let ctrNamespace = "default"

    /// containerd's gRPC socket.
    public var socketPath: String
    /// The containerd namespace whose images and blobs are served; sent with every
    /// call in the `containerd-namespace` metadata header.
    public var namespace: String
    /// containerd's root directory (`/var/lib/containerd` on a node), or its content
    /// plugin's directory (`…/io.containerd.content.v1.content`): either is accepted.
    /// When nil, `/var/lib/containerd` is used if it holds a content store; without
    /// one, every blob is read through the content API (about 10x slower).
    public var contentRoot: String?
    /// How often images are re-listed even without events: containerd 1.6 raises no
    /// event when garbage collection removes blobs, nor when content is added.
    public var relistInterval: Duration
    /// How long a positive `Content.Info` answer is trusted before asking again.
    public var infoCacheTTL: Duration
    /// The longest wait between two attempts to reach containerd again.
    public var maxReconnectDelay: Duration
    /// The deadline of each unary call (the event stream has none).
    public var callTimeout: Duration

    public init(
        socketPath: String = "/run/containerd/containerd.sock",
        namespace: String = ContainerdConfiguration.kubernetesNamespace,
        contentRoot: String? = nil,
        relistInterval: Duration = .seconds(30),
        infoCacheTTL: Duration = .seconds(5),
        maxReconnectDelay: Duration = .seconds(5),
        callTimeout: Duration = .seconds(10)
    ) {
        self.socketPath = socketPath
        self.namespace = namespace
        self.contentRoot = contentRoot
        self.relistInterval = relistInterval
        self.infoCacheTTL = infoCacheTTL
        self.maxReconnectDelay = maxReconnectDelay
        self.callTimeout = callTimeout
    }

    /// The default containerd root of a node, tried when `contentRoot` is nil.
    public static let defaultRoot = "/var/lib/containerd"

    /// Whether `name` is a valid containerd namespace: labels of letters and digits
    /// joined by single `.`, `_` or `-`, at most 76 characters (containerd's
    /// `identifiers.Validate`).
    public static func isValidNamespace(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 76 else { return false }
        var previousWasSeparator = true  // no separator first
        for c in name.utf8 {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                previousWasSeparator = false
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                if previousWasSeparator { return false }
                previousWasSeparator = true
            default:
                return false
            }
        }
        return !previousWasSeparator
    }
}
