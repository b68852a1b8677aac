// WeighpointUplink owns delivery to the case system: the HTTPS client with mutual TLS
// (async-http-client), the outbox drain in sequence order, backoff and acknowledgements. It may
// import Evidence and JSON.
import WeighpointCrypto
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import WeighpointEvidence
import WeighpointJSON

/// Where and how to deliver records (DESIGN.md "Delivery to the case system").
public struct UplinkSettings: Sendable {
    /// e.g. `https://case.example:8443`
    public var baseURL: String
    public var clientCertificatePath: String?
    public var clientKeyPath: String?
    /// CA bundle the case system's certificate must chain to.
    public var caBundlePath: String?
    public var bearerToken: String?
    public var requestTimeoutMs = 10_000
    public var backoffInitialMs = 500
    public var backoffMaxMs = 60_000
    /// Body format of `POST /v1/records`.
    public var format: DeliveryFormat = .weighpoint

    public init(baseURL: String, clientCertificatePath: String? = nil, clientKeyPath: String? = nil, caBundlePath: String? = nil, bearerToken: String? = nil) {
        self.baseURL = baseURL
        self.clientCertificatePath = clientCertificatePath
        self.clientKeyPath = clientKeyPath
        self.caBundlePath = caBundlePath
        self.bearerToken = bearerToken
    }
}

/// How records are shaped on the wire (Docs/openapi.yaml).
public enum DeliveryFormat: String, Sendable, CaseIterable {
    /// `weighpoint.envelope/1`.
    case weighpoint
    /// The Chinese overload exchange field names, with the envelope as `signedRecord`.
    case overloadExchange = "overload-exchange"
}

/// Why a delivery attempt failed; the record stays in the outbox and is tried again.
public struct DeliveryError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case status(Int)
        case transport
        case badAcknowledgement
        case configuration
    }
    public let kind: Kind
    public let seq: Int64?
    public let detail: String
    /// The receiver's Retry-After, when it sent one.
    public let retryAfterSeconds: Int?

    public var description: String {
        let what = switch kind {
        case .status(let c): "HTTP \(c)"
        case .transport: "connection"
        case .badAcknowledgement: "bad acknowledgement"
        case .configuration: "configuration"
        }
        return "delivery\(seq.map { " of record \($0)" } ?? ""): \(what): \(detail)"
    }
}

/// Delivers the store's unacknowledged records in sequence order: images first (idempotent by
/// hash), then the signed envelope; a 2xx acknowledgement marks the record acknowledged. Failures
/// back off exponentially with jitter, forever, honouring Retry-After; nothing busy-loops while
/// the case system is unreachable. Delivery state is the store's, so it survives restarts.
public final class Uplink: @unchecked Sendable {
    public let settings: UplinkSettings
    let store: EvidenceStore
    let client: HTTPClient
    private let lock = NSLock()
    private var alarmList: [String] = []
    private var sentImages = Set<String>()
    private var counters = (delivered: 0, failures: 0)

    public init(store: EvidenceStore, settings: UplinkSettings) throws(DeliveryError) {
        self.store = store
        self.settings = settings
        var config = HTTPClient.Configuration()
        if settings.baseURL.hasPrefix("https://") {
            do {
                var tls = TLSConfiguration.makeClientConfiguration()
                if let cert = settings.clientCertificatePath, let key = settings.clientKeyPath {
                    tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                }
                if let ca = settings.caBundlePath { tls.trustRoots = .file(ca) }
                config.tlsConfiguration = tls
            } catch {
                // NIOSSL's error names the failing call, not the key's contents.
                throw DeliveryError(kind: .configuration, seq: nil, detail: "TLS files (\(settings.clientCertificatePath ?? "-"), \(settings.clientKeyPath ?? "-"), \(settings.caBundlePath ?? "-")): \(error)", retryAfterSeconds: nil)
            }
        }
        config.timeout = .init(connect: .milliseconds(Int64(settings.requestTimeoutMs)), read: .milliseconds(Int64(settings.requestTimeoutMs)))
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    }

    public func shutdown() async {
        lock.withLock { shutDown = true }
        try? await client.shutdown()
    }

    private var shutDown = false

    /// An uplink dropped on an error path before `shutdown()` still closes its client (a debug
    /// build of AsyncHTTPClient would otherwise stop the process). The client keeps itself alive
    /// until its shutdown is done.
    deinit {
        if !lock.withLock({ shutDown }) { client.shutdown(queue: .global()) { _ in } }
    }

    /// Alarms raised (a case system that refuses a record: conflict or rejection).
    public var alarms: [String] { lock.withLock { alarmList } }
    public var deliveredCount: Int { lock.withLock { counters.delivered } }
    public var failureCount: Int { lock.withLock { counters.failures } }

    /// Delivers the oldest unacknowledged record; nil when the outbox is empty.
    public func deliverNext() async throws(DeliveryError) -> Int64? {
        let next: StoredRecord?
        do { next = try store.unacknowledged(limit: 1).first } catch { throw DeliveryError(kind: .configuration, seq: nil, detail: "\(error)", retryAfterSeconds: nil) }
        guard let record = next else { return nil }
        do {
            try await deliver(record)
            lock.withLock { counters.delivered += 1 }
            return record.seq
        } catch {
            // Upload the record's images again next time: the receiver may not have kept them.
            lock.withLock {
                counters.failures += 1
                sentImages.removeAll()
            }
            throw error
        }
    }

    /// Delivers until the outbox is empty; returns how many were delivered.
    @discardableResult
    public func drain() async throws(DeliveryError) -> Int {
        var n = 0
        while try await deliverNext() != nil { n += 1 }
        return n
    }

    /// Delivers forever (until the task is cancelled): drains, waits `pollMs` for new records,
    /// and after a failure waits the backoff (or Retry-After) before trying again.
    public func run(pollMs: Int = 500, onError: @Sendable (DeliveryError) -> Void = { _ in }) async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                try await drain()
                attempt = 0
                try? await Task.sleep(for: .milliseconds(pollMs))
            } catch {
                onError(error)
                attempt += 1
                let ceiling = min(settings.backoffMaxMs, settings.backoffInitialMs << min(attempt, 20))
                var wait = Int.random(in: settings.backoffInitialMs...max(settings.backoffInitialMs, ceiling))  // jittered
                if let ra = error.retryAfterSeconds { wait = max(wait, ra * 1000) }
                try? await Task.sleep(for: .milliseconds(wait))
            }
        }
    }

    private func deliver(_ record: StoredRecord) async throws(DeliveryError) {
        do {
            for img in try store.images(of: record.seq) where !lock.withLock({ sentImages.contains(img.sha256) }) {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: img.path))
                let (status, body, retry) = try await send(.PUT, "/v1/evidence/" + img.sha256, bytes: Array(bytes), contentType: "image/jpeg", seq: record.seq)
                guard (200..<300).contains(status) else { throw failure(status, body, retry, seq: record.seq) }
                // A 2xx from something in between (a proxy page) is not the receiver's word.
                guard parseJSON(body)?["sha256"]?.stringValue == img.sha256 else {
                    throw DeliveryError(kind: .badAcknowledgement, seq: record.seq, detail: "HTTP \(status) for image \(img.sha256.prefix(16))… without its acknowledgement", retryAfterSeconds: nil)
                }
                _ = lock.withLock { sentImages.insert(img.sha256) }
            }
        } catch let e as DeliveryError {
            throw e
        } catch {
            throw DeliveryError(kind: .transport, seq: record.seq, detail: "\(error)", retryAfterSeconds: nil)
        }
        let envelope = RecordEnvelope(record: record, deviceID: store.identity.deviceID, distinguishingID: store.distinguishingID)
        let payload = settings.format == .weighpoint ? envelope.json : OverloadExchange.body(envelope)
        let (status, body, retry) = try await send(.POST, "/v1/records", bytes: payload.canonicalBytes, contentType: "application/json", seq: record.seq)
        guard (200..<300).contains(status) else { throw failure(status, body, retry, seq: record.seq) }
        guard let ack = parseJSON(body), let receipt = ack["ack"]?.stringValue, ack["seq"]?.intValue == record.seq,
            ack["device_id"]?.stringValue == store.identity.deviceID
        else {
            throw DeliveryError(kind: .badAcknowledgement, seq: record.seq, detail: "HTTP \(status) without an acknowledgement of record \(record.seq): \(String(decoding: body.prefix(120), as: UTF8.self))", retryAfterSeconds: nil)
        }
        do {
            try store.acknowledge(record.seq, receipt: receipt)
        } catch {
            throw DeliveryError(kind: .configuration, seq: record.seq, detail: "acknowledged by the case system but not marked: \(error)", retryAfterSeconds: nil)
        }
    }

    /// Uploads bytes as evidence and nothing else (the floor of the delivery benchmark).
    public func put(_ bytes: [UInt8]) async throws {
        let sha = try Digest.hexDigest(of: bytes)
        let (status, body, _) = try await send(.PUT, "/v1/evidence/" + sha, bytes: bytes, contentType: "image/jpeg", seq: 0)
        guard (200..<300).contains(status) else { throw DeliveryError(kind: .status(status), seq: nil, detail: String(decoding: body, as: UTF8.self), retryAfterSeconds: nil) }
    }

    private func failure(_ status: Int, _ body: [UInt8], _ retryAfter: Int?, seq: Int64) -> DeliveryError {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        if status == 409 || status == 422 || status == 400 || status == 403 {
            let alarm = "case system refuses record \(seq) (HTTP \(status)): \(text)"
            lock.withLock { if alarmList.last != alarm { alarmList.append(alarm) } }
        }
        return DeliveryError(kind: .status(status), seq: seq, detail: text, retryAfterSeconds: retryAfter)
    }

    private func send(_ method: HTTPMethod, _ path: String, bytes: [UInt8], contentType: String, seq: Int64) async throws(DeliveryError) -> (Int, [UInt8], Int?) {
        var request = HTTPClientRequest(url: settings.baseURL + path)
        request.method = method
        request.headers.add(name: "Content-Type", value: contentType)
        if let token = settings.bearerToken { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(settings.requestTimeoutMs)))
            let body = try await response.body.collect(upTo: 1 << 20)
            let retry = response.headers.first(name: "Retry-After").flatMap { Int($0) }
            return (Int(response.status.code), Array(buffer: body), retry)
        } catch {
            throw DeliveryError(kind: .transport, seq: seq, detail: "\(method) \(path): \(error)", retryAfterSeconds: nil)
        }
    }
}
