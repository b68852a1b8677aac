// WeighpointCaseSink owns the reference case-system receiver (hummingbird, mutual TLS): it
// verifies, stores and acknowledges delivered records, and its ledger (CaseLedger) keeps them
// per device in the unit's own layout. It runs at the case system, not on a unit, as the
// weighpoint-case-sink executable. It may import Evidence, Crypto, System and JSON.
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOCore
import NIOSSL
import WeighpointEvidence
import WeighpointHTTP
import WeighpointJSON

/// TLS material of the receiver: its certificate and key, and the CA its clients' certificates
/// must chain to (mutual TLS).
public struct SinkTLS: Sendable {
    public var certificatePath: String
    public var keyPath: String
    public var clientCAPath: String

    public init(certificatePath: String, keyPath: String, clientCAPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.clientCAPath = clientCAPath
    }

    func configuration() throws -> TLSConfiguration {
        var c = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
        c.certificateVerification = .noHostnameVerification  // a client certificate is required and must chain to the CA
        c.trustRoots = .file(clientCAPath)
        return c
    }
}

/// Misbehaviour the reference receiver can be told to show, for delivery tests.
public enum SinkFault: Sendable, Equatable {
    case status(Int, retryAfterSeconds: Int?)
    /// 200 with a body that is not an acknowledgement.
    case garbage
    /// Answer normally after a pause.
    case delay(milliseconds: Int)
    /// Close the connection without answering.
    case reset
}

/// Faults queued for the next requests.
public final class SinkFaults: @unchecked Sendable {
    private let lock = NSLock()
    private var queue: [SinkFault] = []
    public private(set) var served = 0

    public init() {}

    public func add(_ f: SinkFault, count: Int = 1) { lock.withLock { queue += Array(repeating: f, count: count) } }

    func next() -> SinkFault? {
        lock.withLock {
            guard !queue.isEmpty else { return nil }
            served += 1
            return queue.removeFirst()
        }
    }
}

/// A request context that keeps the channel, so a fault can drop the connection.
public struct SinkContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// The reference case-system receiver (DESIGN.md "Delivery"): `PUT /v1/evidence/{sha256}`,
/// `POST /v1/records`, `GET /v1/records`, over HTTPS with client certificates.
public enum CaseSink {
    /// Builds the application; `onRunning` hears the bound port.
    /// The receiver's connection bounds: 1024 in all (lowered to fit its descriptor limit), 32
    /// from one address, a request head within 10 s, the whole request (an image of up to
    /// 64 MiB) within 120 s.
    public static var connectionLimits: ConnectionGuard.Limits {
        var l = ConnectionGuard.Limits()
        l.maxConnections = 1024
        l.requestTimeout = .seconds(120)
        return l
    }

    public static func application(
        host: String, port: Int, tls: SinkTLS?, ledger: CaseLedger, faults: SinkFaults = SinkFaults(), bearerToken: String? = nil,
        connections: ConnectionGuard = ConnectionGuard(limits: CaseSink.connectionLimits),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let router = Router(context: SinkContext.self)
        @Sendable func apply(_ request: Request, _ context: SinkContext) async throws -> Response? {
            if let token = bearerToken, request.headers[.authorization] != "Bearer \(token)" {
                return Response(status: .unauthorized, body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(["error": .string("a valid bearer token is required")]).text)))
            }
            switch faults.next() {
            case nil: return nil
            case .status(let code, let retryAfter)?:
                var headers = HTTPFields()
                if let retryAfter { headers[.retryAfter] = String(retryAfter) }
                return Response(status: .init(code: code), headers: headers, body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(["error": .string("injected \(code)")]).text)))
            case .garbage?:
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "<html>proxy says hello</html>")))
            case .delay(let ms)?:
                try await Task.sleep(for: .milliseconds(ms))
                return nil
            case .reset?:
                try await context.channel.close()
                throw HTTPError(.internalServerError)
            }
        }
        @Sendable func json(_ status: HTTPResponse.Status, _ v: JSONValue) -> Response {
            Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: v.canonicalBytes)))
        }
        router.put("/v1/evidence/:sha") { request, context -> Response in
            if let r = try await apply(request, context) { return r }
            let sha = try context.parameters.require("sha")
            let body = try await request.body.collect(upTo: 64 << 20)
            guard try ledger.storeImage(sha256: sha, bytes: Array(buffer: body)) else {
                return json(.badRequest, .object(["error": .string("body does not hash to \(sha)")]))
            }
            return json(.ok, .object(["sha256": .string(sha), "stored": .bool(true)]))
        }
        router.post("/v1/records") { request, context -> Response in
            if let r = try await apply(request, context) { return r }
            let body = try await request.body.collect(upTo: 4 << 20)
            let envelope: RecordEnvelope
            let parsed: JSONValue
            do { parsed = try JSONValue.parse(Array(buffer: body)) } catch { return json(.badRequest, .object(["error": .string("body is not JSON: \(error)")])) }
            // Either the Weighpoint envelope, or the overload-exchange body that carries it.
            switch parsed["signedRecord"] != nil ? OverloadExchange.parse(parsed) : RecordEnvelope.parse(parsed) {
            case .success(let e): envelope = e
            case .failure(let e): return json(.badRequest, .object(["error": .string(e.description)]))
            }
            func ack(_ receipt: String, duplicate: Bool) -> JSONValue {
                .object(["ack": .string(receipt), "device_id": .string(envelope.deviceID), "seq": .int(envelope.seq), "duplicate": .bool(duplicate)])
            }
            switch ledger.accept(envelope) {
            case .accepted(let receipt): return json(.created, ack(receipt, duplicate: false))
            case .duplicate(let receipt): return json(.ok, ack(receipt, duplicate: true))
            case .conflict(let why): return json(.conflict, .object(["error": .string(why)]))
            case .rejected(let why): return json(.unprocessableContent, .object(["error": .string(why)]))
            }
        }
        router.get("/v1/records") { _, _ -> Response in
            let items = try CaseLedger.list(ledger.directory).map {
                JSONValue.object(["device_id": .string($0.device), "seq": .int($0.seq), "decision": .string($0.decision), "plate": $0.plate.map(JSONValue.string) ?? .null])
            }
            return json(.ok, .array(items))
        }
        // The same connection bounds as the unit's listener: a receiver faces many units and
        // whatever else reaches its port.
        let guarded = HTTPServerBuilder.http1(configuration: .init(additionalChannelHandlers: [connections.handler()]))
        let server: HTTPServerBuilder = try tls.map { try .tls(guarded, tlsConfiguration: try $0.configuration()) } ?? guarded
        return Application(
            router: router, server: server, configuration: .init(address: .hostname(host, port: port), serverName: "weighpoint-case-sink"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }
}
