import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import WeighpointCore
import WeighpointCrypto
import WeighpointHTTP
import WeighpointJSON
import WeighpointSystem

/// The unit's two HTTP listeners (Docs/security.md):
///
/// - the **TLS listener** (`[http] tls_listen`) takes authenticated requests only. `POST /v1/reads`
///   takes one read or an array of reads,
///   `{"camera":"front-1","time":"2026-11-28T08:00:01.250Z","plate":"苏A12345","color":"yellow","confidence":0.93}`,
///   from a client that presents a camera's credential: a client certificate chaining to
///   `tls_client_ca` and named in the camera's `credentials`, or `Authorization: Bearer TOKEN`
///   whose SHA-256 is. It answers `202 {"accepted":N}`; `401` without a known credential (checked
///   before the body is read), `403` for a read of a camera the credential is not for, `400`
///   naming the item and field, `413` for a body over 64 KiB, `429` for a camera over its rate
///   (`PlateReadIntake`). A bad batch is refused whole.
/// - the **plain listener** (`[http] listen`, loopback by default): `GET /health` answers 200
///   while the unit can take evidence (status `ok` or `degraded`, with what is degraded) and 503
///   when it cannot; `GET /metrics` is Prometheus text. Reads posted here get 403.
///
/// Both share one connection guard: one budget of connections below the descriptor limit.
public enum UnitHTTP {
    @Sendable static func json(_ status: HTTPResponse.Status, _ v: JSONValue, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: v.canonicalBytes)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        json(status, .object(["error": .string(message)]), headers: headers)
    }

    /// The connection guard both listeners share, and the refusal log.
    public final class Shared: Sendable {
        let connections: ConnectionGuard
        let refusals: RefusalLog

        public init(unit: StationUnit) {
            let refusals = unit.refusals
            self.refusals = refusals
            connections = ConnectionGuard(limits: unit.config.connectionLimits) { event in
                unit.metrics.add("weighpoint_http_connections_closed_total", [("reason", event)])
                refusals.note("connection_" + event, "connection closed: \(event)")
            }
            unit.metrics.set("weighpoint_http_connections_max", [], Double(connections.effectiveMaxConnections))
        }
    }

    /// The plain listener: health and metrics.
    public static func plain(
        unit: StationUnit, shared: Shared, host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: UnitRequestContext.self)
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
        router.post("/v1/reads") { _, context -> Response in
            unit.metrics.add("weighpoint_reads_refused_total", [("reason", "plain_http")])
            shared.refusals.note("plain_http", "plate reads posted to the plain listener", source: context.remoteAddress)
            let at = unit.config.tlsListener.map { "the TLS listener (\($0.listen))" } ?? "no listener: no camera of this unit pushes reads"
            return error(.forbidden, "plate reads are taken only with a camera's credential over TLS, at \(at)")
        }
        return Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [shared.connections.handler()])),
            configuration: .init(address: .hostname(host, port: port), serverName: "weighpointd"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }

    /// The server side of the TLS listener: the unit's certificate; a client certificate is
    /// asked for and, when presented, must chain to the client CA (a token-only client presents
    /// none).
    static func tlsConfiguration(_ l: StationConfig.TLSListener) throws -> TLSConfiguration {
        var c = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(l.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: l.key, format: .pem)))
        c.minimumTLSVersion = .tlsv12
        if let ca = l.clientCA {
            c.certificateVerification = .optionalVerification
            c.trustRoots = .file(ca)
        } else {
            c.certificateVerification = .none
        }
        return c
    }

    /// The TLS listener: authenticated plate reads. Throws when its certificate, key or CA
    /// cannot be loaded (the unit does not start).
    public static func authenticated(
        unit: StationUnit, shared: Shared, listener: StationConfig.TLSListener, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let authorizer = PushAuthorizer(unit.config.cameras)
        let router = Router(context: UnitRequestContext.self)
        router.post("/v1/reads") { request, context -> Response in
            func refuse(_ status: HTTPResponse.Status, _ reason: String, _ message: String, headers: HTTPFields = [:]) -> Response {
                unit.metrics.add("weighpoint_reads_refused_total", [("reason", reason)])
                shared.refusals.note(reason, message, source: context.remoteAddress)
                return error(status, message, headers: headers)
            }
            // Who is asking, before a byte of the body is read.
            let peer = try? await context.channel.nioSSL_peerCertificate().get()
            let certificate = (try? peer?.toDERBytes()).flatMap { CertificateIdentity(der: $0) }
            let sender: ReadSender
            switch authorizer.sender(certificate: certificate, authorization: request.headers[.authorization], address: context.remoteAddress) {
            case .success(let s): sender = s
            case .failure(.unauthenticated(let why)):
                return refuse(.unauthorized, "unauthenticated", why, headers: [.wwwAuthenticate: "Bearer realm=\"weighpoint\""])
            }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: unit.readIntake.limits.maxBodyBytes)
            } catch is NIOTooManyBytesError {
                return refuse(.contentTooLarge, "too_large", "body is over \(unit.readIntake.limits.maxBodyBytes) bytes")
            } catch {
                // The body never came whole: the client went away, or the connection guard closed
                // a request slower than its timeout.
                unit.metrics.add("weighpoint_reads_refused_total", [("reason", "incomplete")])
                throw error
            }
            switch unit.readIntake.take(Array(buffer: body), from: sender) {
            case .accepted(let reads):
                unit.addReads(reads)
                return json(.accepted, .object(["accepted": .int(Int64(reads.count))]))
            case .refused(let status, let reason, let message):
                return refuse(HTTPResponse.Status(code: status), reason, message)
            }
        }
        let hp = HostPort(listener.listen)!
        let guarded = HTTPServerBuilder.http1(configuration: .init(additionalChannelHandlers: [shared.connections.handler()]))
        return Application(
            router: router,
            server: try .tls(guarded, tlsConfiguration: try tlsConfiguration(listener)),
            configuration: .init(address: .hostname(hp.host, port: hp.port), serverName: "weighpointd"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? hp.port) })
    }
}

/// A request's context on the unit's listeners: where it came from (the rate of plate reads is
/// counted per source address) and its channel (the TLS peer's certificate).
public struct UnitRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address, or `?`.
    public let remoteAddress: String
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "?"
        channel = source.channel
    }
}

/// Refusals logged at most once a minute per reason and source address, with how many were
/// refused since: a flood must not flood the log too. At most 4096 (reason, source) pairs are
/// followed; beyond, refusals are counted in metrics only until older pairs expire.
final class RefusalLog: @unchecked Sendable {
    private let lock = NSLock()
    private var last: [String: (at: ContinuousClock.Instant, suppressed: Int)] = [:]
    let logger: Logger
    static let maxKeys = 4096
    init(logger: Logger) { self.logger = logger }

    func note(_ reason: String, _ message: String, source: String? = nil) {
        let now = ContinuousClock.now
        let key = source.map { reason + " " + $0 } ?? reason
        let suppressed: Int? = lock.withLock {
            if let l = last[key], now - l.at < .seconds(60) {
                last[key] = (l.at, l.suppressed + 1)
                return nil
            }
            if last[key] == nil && last.count >= Self.maxKeys {
                last = last.filter { now - $0.value.at < .seconds(60) }
                if last.count >= Self.maxKeys { return nil }
            }
            defer { last[key] = (now, 0) }
            return last[key]?.suppressed ?? 0
        }
        guard let suppressed else { return }
        var metadata: Logger.Metadata = ["reason": "\(reason)", "error": "\(message.prefix(300))", "refused_since_last_line": "\(suppressed)"]
        if let source { metadata["source"] = "\(source)" }
        logger.warning("http request refused", metadata: metadata)
    }

    /// The end of each burst: for every (reason, source) whose minute is over with refusals not
    /// yet logged, one line with their count (the unit calls this every few seconds).
    func flush(now: ContinuousClock.Instant = .now) {
        let ended: [(key: String, suppressed: Int)] = lock.withLock {
            let over = last.filter { now - $0.value.at >= .seconds(60) }
            for k in over.keys { last[k] = nil }
            return over.filter { $0.value.suppressed > 0 }.map { ($0.key, $0.value.suppressed) }.sorted { $0.key < $1.key }
        }
        for e in ended {
            let parts = e.key.split(separator: " ", maxSplits: 1)
            var metadata: Logger.Metadata = ["reason": "\(parts[0])", "refused_since_last_line": "\(e.suppressed)"]
            if parts.count > 1 { metadata["source"] = "\(parts[1])" }
            logger.warning("http requests refused, burst over", metadata: metadata)
        }
    }
}
