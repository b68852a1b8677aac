import ArgumentParser
import Foundation
import Logging
import WeighpointService

/// The unit's daemon: loads and validates the station configuration, establishes the software
/// identity (OIML D 31), and runs the unit (WIM, cameras, plate reads, decisions, evidence store,
/// delivery, health and metrics) until SIGTERM.
@main
struct Weighpointd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weighpointd",
        abstract: "The Weighpoint unit daemon.")

    @Flag(help: "Print the software identity and exit.")
    var version = false

    @Option(name: .customLong("check-config"), help: "Validate this station configuration, print every problem with file, line and key, and exit (1 when there are problems).")
    var checkConfig: String?

    @Option(help: "The station configuration.")
    var config = "/etc/weighpoint/station.toml"

    func run() async throws {
        if let checkConfig {
            do {
                let c = try StationConfig.load(path: checkConfig)
                if let problem = c.replaySourceProblem { throw problem }
                print("\(checkConfig): ok (station \(c.station.code), device \(c.station.deviceID), \(c.lanes.count) lane(s), \(c.cameras.count) camera(s), WIM \(c.wim.profile.name) from \(c.wim.profile.source) on \(c.wim.transport))")
                return
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        UnitRunner.bootstrapLogging()
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
        let rc = try await UnitRunner.runStation(configPath: config, identity: identity, logger: log)
        if rc != 0 { throw ExitCode(rc) }
    }
}
