import ArgumentParser
import Registry
import Testing

@testable import gossip_mirror

/// `--cold-pull*` as `run` turns them into `ColdPullSettings`, from the
/// command line and from the environment.
@Suite struct ColdPullOptionsTests {
    @Test func defaultsAreTheSettingsDefaults() throws {
        #expect(try Run.parse([]).coldPullOptions.settings == ColdPullSettings())
    }

    @Test func flagsSetEverySetting() throws {
        let settings = try Run.parse([
            "--no-cold-pull", "--cold-pull-claim-ttl", "3s", "--cold-pull-stall-timeout", "2m", "--cold-pull-ingest-wait", "500ms",
        ]).coldPullOptions.settings
        #expect(!settings.enabled)
        #expect(settings.claimTTL == .seconds(3))
        #expect(settings.stallTimeout == .seconds(120))
        #expect(settings.ingestWait == .milliseconds(500))
    }

    @Test func theEnvironmentSetsThemToo() throws {
        let arguments = try ConfigurationSources.merge(
            arguments: ["run"], environment: ["GOSSIP_MIRROR_COLD_PULL": "false", "GOSSIP_MIRROR_COLD_PULL_STALL_TIMEOUT": "45s"])
        let settings = try Run.parse(Array(arguments.dropFirst())).coldPullOptions.settings
        #expect(!settings.enabled)
        #expect(settings.stallTimeout == .seconds(45))
    }

    @Test(arguments: [["--cold-pull-claim-ttl", "0s"], ["--cold-pull-stall-timeout", "10"], ["--cold-pull-ingest-wait", "-1s"]])
    func badValuesAreRefused(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try Run.parse(arguments) }
    }
}
