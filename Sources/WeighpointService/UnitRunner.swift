import Foundation
import Logging
import ServiceLifecycle
import WeighpointUplink

/// Builds the unit's services from a configuration and runs them as one swift-service-lifecycle
/// group: started in order (delivery, unit, HTTP endpoint, systemd notifier, then `extra`), shut
/// down in reverse on SIGTERM or SIGINT, so input stops first, pending weighings are decided and
/// committed, and delivery stops last.
public enum UnitRunner {
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
    public static func run(
        unit: StationUnit, logger: Logger, extra: [any Service] = [], onHTTPRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let config = unit.config
        let ready = ReadyFlag(needs: ["unit", "http"])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let cs = config.caseSystem {
            let uplink = try Uplink(store: unit.store, settings: try uplinkSettings(cs))
            unit.uplink = uplink
            services.append(.init(service: UplinkService(uplink: uplink, logger: logger)))
        }
        services.append(.init(service: UnitService(unit: unit) { ready.mark("unit") }))
        let hp = HostPort(config.httpListen)!
        let http = UnitHTTP.application(unit: unit, host: hp.host, port: hp.port) { port in
            logger.info("http listening", metadata: ["port": "\(port)", "routes": "POST /v1/reads, GET /health, GET /metrics"])
            ready.mark("http")
            await onHTTPRunning(port)
        }
        services.append(.init(service: http))
        services.append(.init(service: SystemdNotifier(unit: unit, ready: ready)))
        for e in extra { services.append(.init(service: e, successTerminationBehavior: .gracefullyShutdownGroup)) }
        var groupConfig = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfig.maximumGracefulShutdownDuration = .seconds(60)
        try await ServiceGroup(configuration: groupConfig).run()
    }
}
