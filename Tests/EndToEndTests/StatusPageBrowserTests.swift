import Foundation
import Testing
import TestSupport

/// The status page as a browser shows it: headless Chromium renders
/// `/status` of a node in a running three-host cluster (content negotiation
/// gives it the HTML page), and the rendered DOM lists every member and the
/// request the node last relayed from a peer.
@Suite(
    .serialized,
    .enabled(
        if: TestEnvironment.canRun(Cluster.tools + ["chromium"], needsRoot: true),
        "needs root, containerd, ctr, docker-registry, skopeo, iproute2, nftables, curl, openssl and chromium"))
struct StatusPageBrowserTests {
    /// `chromium --headless --dump-dom URL`: the DOM after the page loaded.
    static func renderedDOM(_ url: String, screenshot: String, profile: String) async throws -> Subprocess.Output {
        let flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--user-data-dir=\(profile)", "--window-size=1280,1400",
        ]
        // A screenshot too, for a person looking at a failure.
        _ = try? await Subprocess.run(["chromium"] + flags + ["--screenshot=\(screenshot)", url], deadline: .seconds(60), check: false)
        return try await Subprocess.run(["chromium"] + flags + ["--dump-dom", url], deadline: .seconds(60))
    }

    @Test func chromiumRendersMembersAndTheLastRelayedRequest() async throws {
        try await Cluster.run("status page in chromium", hosts: 3) { c in
            let image = try await c.image("page", layerSizes: [2048, 400_000], multiPlatform: false)
            let ref = try await c.push(image, as: "e2e/page")
            try await c.pull(ref, on: c[1], label: "from upstream")
            try c.require(await c.waitForHolder(c[2], ref, holder: "host-1"), "host-2 never learned that host-1 holds \(ref)")
            try await c.blockUpstream([c[2]])
            try await c.pull(ref, on: c[2], label: "through host-1")

            let profile = "\(c.directory)/chromium-profile"
            let screenshot = "\(c.directory)/status-page.png"
            let dom = try await Self.renderedDOM("http://\(c[2].statusAddress)/status", screenshot: screenshot, profile: profile).stdout
            c.check(dom.contains("<table id=\"members\""), "the page has no members table:\n\(dom.prefix(2000))")
            for host in c.hosts {
                c.check(dom.contains("data-member=\"\(host.name)\""), "the rendered page does not list \(host.name)")
            }
            c.check(dom.components(separatedBy: "<td class=\"alive\">alive</td>").count - 1 == 3, "not every member shows as alive")
            // The layer came from host-1: the last requests name it as a relay from that peer.
            let layer = image.hostImage!.layers[1].digest.description
            let rows = dom.components(separatedBy: "<tr class=\"request\"").dropFirst()
            let relayed = rows.first { $0.contains(layer) && $0.hasPrefix(" data-source=\"peer\" data-peer=\"host-1\"") }
            c.check(relayed != nil, "no rendered row for the relayed layer \(layer) from host-1:\n\(rows.prefix(8).joined(separator: "\n"))")
            c.check(dom.contains("<tr data-source=\"peer\">"), "no hit ratio row for peer")
            c.note("chromium rendered host-2's status page (\(dom.utf8.count) bytes of DOM, screenshot \(screenshot))")
            // curl, asking for anything, still gets the text.
            let text = try await Subprocess.run(["curl", "-s", "--max-time", "5", "http://\(c[2].statusAddress)/status"])
            c.check(text.stdout.hasPrefix("gossip-mirror host-2 at "), "curl got: \(text.stdout.prefix(200))")
        }
    }
}
