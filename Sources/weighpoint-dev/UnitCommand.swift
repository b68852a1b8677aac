import ArgumentParser
import Foundation
import Logging
import WeighpointCommandLine
import WeighpointService
import WeighpointTesting

/// `weighpoint-dev unit`: the unit exactly as weighpointd runs it, except that cameras given as
/// `replay = DIR` play JPEG files. For the demo, the scripts' whole-unit tests and benchmarks on
/// machines without cameras; never on a station.
struct UnitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unit",
        abstract: "Run the unit as weighpointd does, with replay cameras allowed (development only).")

    @Option(name: .customLong("check-config"), help: "Validate this station configuration, print every problem with file, line and key, and exit (1 when there are problems).")
    var checkConfig: String?

    @Option(help: "The station configuration.")
    var config = "/etc/weighpoint/station.toml"

    @Flag(name: .customLong("console-stdio"), help: "The technician console on standard input and output instead of the serial port.")
    var consoleStdio = false

    func run() async throws {
        if let checkConfig {
            do {
                let c = try StationConfig.load(path: checkConfig)
                print("\(checkConfig): ok (station \(c.station.code), device \(c.station.deviceID), \(c.lanes.count) lane(s), \(c.cameras.count) camera(s), \(c.replaySources.count) of them replays, WIM \(c.wim.profile.name) from \(c.wim.profile.source) on \(c.wim.transport))")
                return
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
        }
        UnitRunner.bootstrapLogging(default: consoleStdio && isatty(2) == 1 && isatty(1) == 1 ? .warning : .info)
        let log = Logger(label: "weighpoint-dev-unit")
        let identity = try SoftwareIdentity.current()
        let rc = try await UnitRunner.runStation(configPath: config, identity: identity, logger: log, consoleOnStandardIO: consoleStdio, frames: replayOrDeviceFrameSources)
        if rc != 0 { throw ExitCode(rc) }
    }
}
