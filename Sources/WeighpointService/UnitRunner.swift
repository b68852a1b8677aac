import WeighpointTOML
import Foundation
import Logging
import ServiceLifecycle
import WeighpointSystem
import WeighpointUplink

/// The unit cannot start: what and why.
public struct UnitStartError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Builds the unit's services from a configuration and runs them as one swift-service-lifecycle
/// group: started in order (delivery, unit, HTTP endpoint, systemd notifier, then `extra`), shut
/// down in reverse on SIGTERM or SIGINT, so input stops first, pending weighings are decided and
/// committed, and delivery stops last.
public enum UnitRunner {
    /// swift-log through `KeyValueLogHandler` on standard error; `WEIGHPOINT_LOG=debug|info|
    /// notice|warning|error` sets the level (default info).
    public static func bootstrapLogging(default level: Logger.Level = .info) {
        let chosen = ProcessInfo.processInfo.environment["WEIGHPOINT_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? level
        LoggingSystem.bootstrap { label in
            var h = KeyValueLogHandler(label: label)
            h.logLevel = chosen
            return h
        }
    }

    /// What `weighpointd --config` (and `weighpoint console --stdio`) does: loads the station
    /// configuration (every problem logged and printed, exit status 2), builds the unit (exit 1 if
    /// it cannot start) and runs it until shutdown.
    /// `frames` replaces the unit's V4L2 cameras (weighpoint-dev's replay cameras); without it a
    /// configured replay camera is a configuration error.
    public static func runStation(
        configPath: String, identity: SoftwareIdentity, logger log: Logger, consoleOnStandardIO: Bool = false, frames: FrameSourceFactory? = nil
    ) async throws -> Int32 {
        log.info("start", metadata: ["version": "\(identity.version)", "sha256": "\(identity.executableSHA256)", "config": "\(configPath)"])
        let station: StationConfig
        do throws(ConfigError) {
            station = try StationConfig.load(path: configPath)
            if frames == nil, let problem = station.replaySourceProblem { throw problem }
        } catch {
            for p in error.problems { log.critical("configuration", metadata: ["problem": "\(p)"]) }
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            return 2
        }
        if consoleOnStandardIO && station.console == nil {
            let why = "\(configPath): console: the configuration has no [console] section (technicians)"
            log.critical("configuration", metadata: ["problem": "\(why)"])
            FileHandle.standardError.write(Data((why + "\n").utf8))
            return 2
        }
        let unit: StationUnit
        do {
            unit = try StationUnit(config: station, software: identity, logger: log, frames: frames)
        } catch {
            log.critical("cannot start the unit", metadata: ["error": "\(error)"])
            return 1
        }
        do {
            try await run(unit: unit, logger: log, consoleOnStandardIO: consoleOnStandardIO)
        } catch let e as UnitStartError {
            log.critical("cannot start the unit", metadata: ["error": "\(e)"])
            FileHandle.standardError.write(Data("\(e)\n".utf8))
            return 1
        }
        log.info("stopped")
        return 0
    }

    public static func uplinkSettings(_ cs: StationConfig.CaseSystem) throws -> UplinkSettings {
        var token: String?
        if let f = cs.tokenFile {
            token = try String(contentsOfFile: f, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var s = UplinkSettings(baseURL: cs.url, clientCertificatePath: cs.clientCertificate, clientKeyPath: cs.clientKey, caBundlePath: cs.caBundle, bearerToken: token)
        s.format = DeliveryFormat(rawValue: cs.format) ?? .weighpoint
        return s
    }

    /// Runs until shutdown. `extra` services run after the unit is up; one that returns
    /// successfully shuts the group down (the demo's traffic does this when it is done).
    /// `consoleOnStandardIO` puts the technician console on standard input and output instead of
    /// the configured serial port; its end of input then shuts the unit down.
    public static func run(
        unit: StationUnit, logger: Logger, extra: [any Service] = [], consoleOnStandardIO: Bool = false,
        onHTTPRunning: @escaping @Sendable (Int) async -> Void = { _ in }, onTLSRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let config = unit.config
        let ready = ReadyFlag(needs: config.tlsListener == nil ? ["unit", "http"] : ["unit", "http", "tls"])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let cs = config.caseSystem {
            let uplink = try Uplink(store: unit.store, settings: try uplinkSettings(cs))
            unit.uplink = uplink
            services.append(.init(service: UplinkService(uplink: uplink, logger: logger)))
        }
        services.append(.init(service: UnitService(unit: unit) { ready.mark("unit") }))
        let shared = UnitHTTP.Shared(unit: unit)
        let hp = HostPort(config.httpListen)!
        let http = UnitHTTP.plain(unit: unit, shared: shared, host: hp.host, port: hp.port) { port in
            logger.info("http listening", metadata: ["port": "\(port)", "routes": "GET /health, GET /metrics"])
            ready.mark("http")
            await onHTTPRunning(port)
        }
        services.append(.init(service: http))
        if let tls = config.tlsListener {
            let app: any Service
            do {
                app = try UnitHTTP.authenticated(unit: unit, shared: shared, listener: tls) { port in
                    logger.info("tls listening", metadata: ["port": "\(port)", "routes": "POST /v1/reads", "client_ca": "\(tls.clientCA ?? "none (tokens only)")"])
                    ready.mark("tls")
                    await onTLSRunning(port)
                }
            } catch {
                throw UnitStartError(message: "[http] tls_certificate \(tls.certificate), tls_key \(tls.key)\(tls.clientCA.map { ", tls_client_ca \($0)" } ?? ""): cannot load: \(error)")
            }
            services.append(.init(service: app))
        }
        if !config.cameras.contains(where: { $0.plates != .none }) {
            logger.warning("no camera gives plate reads (plates = \"pushed\" or \"recognizer\"): every record will say plate unknown")
        }
        services.append(.init(service: SystemdNotifier(unit: unit, ready: ready)))
        if let c = config.console {
            if consoleOnStandardIO {
                services.append(.init(service: ConsoleService(unit: unit, line: .standardIO, settings: c.settings, logger: logger), successTerminationBehavior: .gracefullyShutdownGroup))
            } else if let port = c.port {
                services.append(.init(service: ConsoleService(unit: unit, line: .serial(port, c.serial), settings: c.settings, logger: logger)))
            }
        }
        for e in extra { services.append(.init(service: e, successTerminationBehavior: .gracefullyShutdownGroup)) }
        var groupConfig = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfig.maximumGracefulShutdownDuration = .seconds(60)
        try await ServiceGroup(configuration: groupConfig).run()
    }
}
