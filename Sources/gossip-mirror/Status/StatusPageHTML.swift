import Foundation

/// The status page as HTML, for a browser asking `/status` (Spegel's debug
/// page, without a JavaScript framework: one static page that reloads itself
/// every 5 s). Every value from the network is escaped.
enum StatusPageHTML {
    static func render(_ r: StatusReport, now: Date = Date()) -> String {
        let alive = r.members.filter { $0.state == "alive" }.count
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="refresh" content="5">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>gossip-mirror \(e(r.name))</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
            h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
            table { border-collapse: collapse; } th, td { padding: .2em .8em; text-align: left; border-bottom: 1px solid #ddd; }
            td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            .alive { color: #17692b; } .suspect { color: #9a6700; } .dead, .left { color: #b3261e; }
            .bar { display: inline-block; height: .8em; background: #4a78c2; vertical-align: middle; }
            code { font-size: .95em; }
            </style>
            </head>
            <body>
            <h1>gossip-mirror <span id="node-name">\(e(r.name))</span></h1>
            <p id="summary">\(e(r.address)), profile \(e(r.profile)), version \(e(r.version ?? "?"))\
            \(r.commit.map { " (commit <code>\(e(String($0.prefix(12))))</code>)" } ?? ""); \
            \(r.members.count) members, \(alive) alive; local health \(r.localHealth)</p>

            <h2>Members</h2>
            <table id="members">
            <thead><tr><th>name</th><th>address</th><th>state</th><th>round trip</th><th>catalog entries</th><th>incarnation</th></tr></thead>
            <tbody>

            """
        for m in r.members {
            html += """
                <tr class="member" data-member="\(e(m.name))"><td>\(e(m.name))\(m.isSelf ? " (this node)" : "")</td>\
                <td>\(e(m.address))</td><td class="\(e(m.state))">\(e(m.state))</td>\
                <td class="n">\(m.roundTripMilliseconds.map { String(format: "%.2f ms", $0) } ?? "–")</td>\
                <td class="n">\(m.catalogEntries.map(String.init) ?? "–")</td><td class="n">\(m.incarnation)</td></tr>

                """
        }
        html += "</tbody></table>\n\n<h2>Requests by source</h2>\n<table id=\"hit-ratio\">\n"
        let requests = r.registry?.requests ?? [:]
        let ratios = r.hitRatios ?? [:]
        for source in ["local", "peer", "miss"] {
            let share = ratios[source] ?? 0
            html += """
                <tr data-source="\(source)"><th>\(source)</th><td class="n">\(requests[source, default: 0])</td>\
                <td class="n">\(String(format: "%.1f %%", share * 100))</td>\
                <td><span class="bar" style="width: \(Int((share * 200).rounded()))px"></span></td></tr>

                """
        }
        if let counts = r.registry {
            html += """
                </table>
                <p>served \(bytes(counts.localBytes)) from this node, \(bytes(counts.peerBytes)) relayed from peers; \
                \(counts.verificationFailures) verification failures, \(counts.peerFailures) peer failures, \
                \(counts.rejectedTokens) rejected tokens</p>

                """
        } else {
            html += "</table>\n"
        }
        html += coldPullSection(r.coldPull)
        html += """
            <h2>Last requests</h2>
            <table id="requests">
            <thead><tr><th>age</th><th>request</th><th>status</th><th>source</th><th>peer</th><th>bytes</th><th>time</th></tr></thead>
            <tbody>

            """
        for q in r.lastRequests ?? [] {
            html += """
                <tr class="request" data-source="\(e(q.source ?? ""))" data-peer="\(e(q.peer ?? ""))">\
                <td class="n">\(age(q.time, now))</td><td><code>\(e(q.method)) \(e(q.path))</code></td>\
                <td class="n">\(q.status)\(q.aborted == nil ? "" : " (cut short)")</td><td>\(e(q.source ?? "–"))</td>\
                <td>\(e(q.peer ?? "–"))</td><td class="n">\(q.bytes)</td><td class="n">\(String(format: "%.1f ms", q.milliseconds))</td></tr>

                """
        }
        html += """
            </tbody></table>

            <h2>Last errors</h2>
            <table id="errors">
            <thead><tr><th>age</th><th>level</th><th>message</th><th>details</th></tr></thead>
            <tbody>

            """
        for err in r.lastErrors ?? [] {
            html += """
                <tr class="error"><td class="n">\(age(err.time, now))</td><td>\(e(err.level))</td><td>\(e(err.message))</td>\
                <td><code>\(e(err.details))</code></td></tr>

                """
        }
        html += """
            </tbody></table>
            <p>Machine-readable: <a href="/status.json">/status.json</a> · <a href="/metrics">/metrics</a></p>
            </body>
            </html>

            """
        return html
    }

    /// HTML-escaped text (element content and quoted attribute values).
    static func e(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func age(_ time: Date, _ now: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(time)))
        return seconds < 120 ? "\(seconds) s" : seconds < 7200 ? "\(seconds / 60) min" : "\(seconds / 3600) h"
    }

    static func bytes(_ n: Int64) -> String {
        n < 1 << 20 ? "\(n) B" : String(format: "%.1f MiB", Double(n) / 1_048_576)
    }

    /// Whether the client prefers HTML: its `Accept` header names
    /// `text/html` (browsers do; curl sends `*/*` and gets the text).
    static func isPreferred(accept: [String]) -> Bool {
        for value in accept {
            for part in value.split(separator: ",") {
                let media = part.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
                let quality = part.split(separator: ";").dropFirst().first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("q=") }
                    .flatMap { Double($0.trimmingCharacters(in: .whitespaces).dropFirst(2)) } ?? 1
                if (media == "text/html" || media == "application/xhtml+xml") && quality > 0 { return true }
            }
        }
        return false
    }
}
