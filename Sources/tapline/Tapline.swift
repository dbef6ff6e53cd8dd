import ArgumentParser

/// The `tapline` command: the daemon and its helpers.
@main
struct Tapline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tapline",
        abstract: "A self-hosted replication scheduler compatible with the Stitch Connect v4 sources API.",
        subcommands: [
            Serve.self, SourcesCommand.self, JobsCommand.self, ConfigCommand.self, ScheduleCommand.self, CredentialsCommand.self,
            StoreCommand.self, PluginsCommand.self,
            DemoTap.self,
            JSONLTarget.self,
            JobGuardCommand.self,
        ],
        defaultSubcommand: nil
    )
}
