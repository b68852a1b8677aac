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
                print("\(checkConfig): ok (station \(c.station.code), device \(c.station.deviceID), \(c.lanes.count) lane(s), \(c.cameras.count) camera(s), WIM \(c.wim.profile.name) from \(c.wim.profile.source) on \(c.wim.transport))")
                return
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
        }
        // WEIGHPOINT_LOG=debug|info|notice|warning|error sets the level (default info).
        let level = ProcessInfo.processInfo.environment["WEIGHPOINT_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var h = KeyValueLogHandler(label: label)
            h.logLevel = level
            return h
        }
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
        log.info("start", metadata: ["version": "\(identity.version)", "sha256": "\(identity.executableSHA256)", "config": "\(config)"])
        let station: StationConfig
        do {
            station = try StationConfig.load(path: config)
        } catch {
            for p in error.problems { log.critical("configuration", metadata: ["problem": "\(p)"]) }
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
        let unit: StationUnit
        do {
            unit = try StationUnit(config: station, software: identity, logger: log)
        } catch {
            log.critical("cannot start the unit", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        try await UnitRunner.run(unit: unit, logger: log)
        log.info("stopped")
    }
}
