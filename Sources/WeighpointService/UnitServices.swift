import Foundation
import WeighpointHTTP
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import WeighpointCore
import WeighpointEvidence
import WeighpointJSON
import WeighpointUplink

#if canImport(Glibc)
import Glibc
#endif

/// The unit's HTTP endpoint: plate reads in, health and metrics out.
///
/// `POST /v1/reads` takes one read or an array of reads:
/// `{"camera":"front-1","time":"2026-11-28T08:00:01.250Z","plate":"苏A12345","color":"yellow","confidence":0.93}`
/// and answers `202 {"accepted":N}`; `400 {"error":…}` naming the item and field, `413` for a
/// body over 64 KiB, `429` for a camera over its rate (`PlateReadIntake`); a bad batch is
/// refused whole. `GET /health` answers 200 while the unit can take evidence (status `ok` or
/// `degraded`, with what is degraded) and 503 when it cannot. `GET /metrics` is Prometheus text.
public enum UnitHTTP {
    public static func application(
        unit: StationUnit, host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: UnitRequestContext.self)
        @Sendable func json(_ status: HTTPResponse.Status, _ v: JSONValue) -> Response {
            Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: v.canonicalBytes)))
        }
        let refusals = RefusalLog(logger: unit.log)
        router.post("/v1/reads") { request, context -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: unit.readIntake.limits.maxBodyBytes)
            } catch is NIOTooManyBytesError {
                unit.metrics.add("weighpoint_reads_refused_total", [("reason", "too_large")])
                refusals.note("too_large", "body over \(unit.readIntake.limits.maxBodyBytes) bytes")
                return json(.contentTooLarge, .object(["error": .string("body is over \(unit.readIntake.limits.maxBodyBytes) bytes")]))
            } catch {
                // The body never came whole: the client went away, or the connection guard closed
                // a request slower than its timeout.
                unit.metrics.add("weighpoint_reads_refused_total", [("reason", "incomplete")])
                throw error
            }
            switch unit.readIntake.take(Array(buffer: body), from: context.remoteAddress) {
            case .accepted(let reads):
                unit.addReads(reads)
                return json(.accepted, .object(["accepted": .int(Int64(reads.count))]))
            case .refused(let status, let reason, let message):
                unit.metrics.add("weighpoint_reads_refused_total", [("reason", reason)])
                refusals.note(reason, message)
                return json(HTTPResponse.Status(code: status), .object(["error": .string(message)]))
            }
        }
        router.get("/health") { _, _ -> Response in
            let h = unit.health()
            return json(h.healthy ? .ok : .serviceUnavailable, h.json)
        }
        router.get("/metrics") { _, _ -> Response in
            _ = unit.health()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: unit.metrics.render())))
        }
        let connections = ConnectionGuard(limits: unit.config.connectionLimits) { event in
            unit.metrics.add("weighpoint_http_connections_closed_total", [("reason", event)])
            refusals.note("connection_" + event, "connection closed: \(event)")
        }
        unit.metrics.set("weighpoint_http_connections_max", [], Double(connections.effectiveMaxConnections))
        return Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [connections.handler()])),
            configuration: .init(address: .hostname(host, port: port), serverName: "weighpointd"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }
}

/// A request's context on the unit's listener: where it came from (the rate of plate reads is
/// counted per source address).
public struct UnitRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address, or `?`.
    public let remoteAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "?"
    }
}

/// Refusals logged at most once a minute per reason, with how many were refused since: a
/// flood must not flood the log too.
final class RefusalLog: @unchecked Sendable {
    private let lock = NSLock()
    private var last: [String: (at: ContinuousClock.Instant, suppressed: Int)] = [:]
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    func note(_ reason: String, _ message: String) {
        let now = ContinuousClock.now
        let suppressed: Int? = lock.withLock {
            if let l = last[reason], now - l.at < .seconds(60) {
                last[reason] = (l.at, l.suppressed + 1)
                return nil
            }
            defer { last[reason] = (now, 0) }
            return last[reason]?.suppressed ?? 0
        }
        guard let suppressed else { return }
        logger.warning("http request refused", metadata: ["reason": "\(reason)", "error": "\(message.prefix(300))", "refused_since_last_line": "\(suppressed)"])
    }
}

/// The unit as a swift-service-lifecycle service: starts the cameras and the WIM driver, decides
/// every 20 ms, and on graceful shutdown stops the WIM input, decides and commits everything
/// still pending (reads or not), then stops the cameras. Nothing received is dropped.
public struct UnitService: Service {
    public let unit: StationUnit
    public let onReady: @Sendable () -> Void
    public init(unit: StationUnit, onReady: @escaping @Sendable () -> Void = {}) {
        self.unit = unit
        self.onReady = onReady
    }

    public func run() async throws {
        try unit.start()
        onReady()
        await cancelWhenGracefulShutdown {
            var ticks = 0
            while !Task.isCancelled {
                await unit.decideDue()
                ticks += 1
                if ticks % 250 == 0 { Task.detached { unit.reloadChangedLists() } }  // every ≈ 5 s
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        unit.stopInput()
        let n = await unit.decideDue(flush: true)
        unit.stopRecognition()
        unit.stopCameras()
        unit.log.info("unit stopped", metadata: ["flushed": "\(n)"])
    }
}

/// Delivery to the case system until shutdown.
public struct UplinkService: Service {
    public let uplink: Uplink
    let log: Logger
    public init(uplink: Uplink, logger: Logger) {
        self.uplink = uplink
        self.log = logger
    }

    public func run() async throws {
        let log = self.log
        await cancelWhenGracefulShutdown {
            await uplink.run { error in log.warning("delivery", metadata: ["error": "\(error)"]) }
        }
        await uplink.shutdown()
    }
}

/// systemd's notify protocol: `READY=1` once, then `WATCHDOG=1` every half watchdog period while
/// the unit is healthy (a unit that stops answering is restarted by systemd). Datagrams to
/// $NOTIFY_SOCKET; does nothing when it is not set. Sends never block: a manager that stops
/// reading must not stall the unit (a full socket drops the ping, as a missed ping should).
public struct SystemdNotifier: Service {
    let unit: StationUnit
    let ready: ReadyFlag

    public init(unit: StationUnit, ready: ReadyFlag) {
        self.unit = unit
        self.ready = ready
    }

    public static func send(_ message: String) {
        guard let path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        // An abstract socket is written with a leading '@' and sent with a leading NUL.
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        _ = message.withCString { m in
            withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, m, strlen(m), Int32(MSG_DONTWAIT), $0, len) }
            }
        }
    }

    public func run() async throws {
        while !ready.isSet {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        Self.send("READY=1\nSTATUS=deciding")
        let usec = ProcessInfo.processInfo.environment["WATCHDOG_USEC"].flatMap(Int.init) ?? 0
        guard usec > 0 else {
            try? await gracefulShutdown()
            Self.send("STOPPING=1")
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if unit.store.refusalReason == nil { Self.send("WATCHDOG=1") }
                try? await Task.sleep(for: .microseconds(usec / 2))
            }
        }
        Self.send("STOPPING=1")
    }
}

/// Set once, read many times: the unit started and the HTTP endpoint is listening.
public final class ReadyFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: Set<String> = []
    private let needed: Set<String>
    public init(needs: Set<String>) { needed = needs }
    public func mark(_ part: String) { lock.withLock { _ = parts.insert(part) } }
    public var isSet: Bool { lock.withLock { parts.isSuperset(of: needed) } }
}
