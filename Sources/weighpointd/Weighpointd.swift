import ArgumentParser
import Logging
import WeighpointService

/// The unit's daemon. So far it establishes and logs the software identity at start (OIML D 31);
/// the services (WIM, cameras, store, delivery, console) are wired in as they land.
@main
struct Weighpointd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weighpointd",
        abstract: "The Weighpoint unit daemon.")

    @Flag(help: "Print the software identity and exit.")
    var version = false

    func run() throws {
        LoggingSystem.bootstrap(KeyValueLogHandler.init)
        let log = Logger(label: "weighpointd")
        let identity: SoftwareIdentity
        do {
            identity = try SoftwareIdentity.current()
        } catch {
            log.critical("cannot establish software identity", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        if version {
            print(identity.lines.joined(separator: "\n"))
            return
        }
        log.info("start", metadata: ["version": "\(identity.version)", "sha256": "\(identity.executableSHA256)"])
        log.error("no services are configured in this build; nothing to run")
        throw ExitCode(1)
    }
}
