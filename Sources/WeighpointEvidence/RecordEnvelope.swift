import WeighpointCrypto
import Foundation
import WeighpointJSON

/// The signed record as it travels to the case system: the exact canonical bytes and the
/// signature, base64, with what a receiver needs to pick the key (`POST /v1/records`).
public struct RecordEnvelope: Sendable, Equatable {
    public var deviceID: String
    public var seq: Int64
    public var algorithm: SignatureAlgorithm
    public var keyID: String
    public var distinguishingID: String?
    public var body: [UInt8]
    public var signature: [UInt8]

    public static let format = "weighpoint.envelope/1"

    public init(record r: StoredRecord, deviceID: String, distinguishingID: String) {
        self.deviceID = deviceID
        seq = r.seq
        algorithm = r.algorithm
        keyID = r.keyID
        self.distinguishingID = r.algorithm == .sm2 ? distinguishingID : nil
        body = r.body
        signature = r.signature
    }

    public var json: JSONValue {
        .object([
            "format": .string(Self.format), "device_id": .string(deviceID), "seq": .int(seq), "alg": .string(algorithm.envelopeName),
            "key_id": .string(keyID), "distid": distinguishingID.map(JSONValue.string) ?? .null,
            "record": .string(Data(body).base64EncodedString()), "signature": .string(Data(signature).base64EncodedString()),
        ])
    }

    /// Parses an envelope; nil with a reason when malformed.
    public static func parse(_ bytes: [UInt8]) -> Result<RecordEnvelope, EnvelopeError> {
        do { return parse(try JSONValue.parse(bytes)) } catch { return .failure(.init("body is not JSON: \(error)")) }
    }

    public static func parse(_ j: JSONValue) -> Result<RecordEnvelope, EnvelopeError> {
        guard j["format"]?.stringValue == format else { return .failure(.init("format must be \(format)")) }
        guard let device = j["device_id"]?.stringValue, let seq = j["seq"]?.intValue, let algName = j["alg"]?.stringValue,
            let alg = SignatureAlgorithm(envelopeName: algName), let keyID = j["key_id"]?.stringValue,
            let body = j["record"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
            let sig = j["signature"]?.stringValue.flatMap({ Data(base64Encoded: $0) })
        else { return .failure(.init("device_id, seq, alg, key_id, record and signature (base64) are required")) }
        return .success(RecordEnvelope(deviceID: device, seq: seq, algorithm: alg, keyID: keyID, distinguishingID: j["distid"]?.stringValue, body: Array(body), signature: Array(sig)))
    }

    init(deviceID: String, seq: Int64, algorithm: SignatureAlgorithm, keyID: String, distinguishingID: String?, body: [UInt8], signature: [UInt8]) {
        self.deviceID = deviceID
        self.seq = seq
        self.algorithm = algorithm
        self.keyID = keyID
        self.distinguishingID = distinguishingID
        self.body = body
        self.signature = signature
    }
}

public struct EnvelopeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}
