import WeighpointCrypto
import Foundation
import WeighpointCore
import WeighpointJSON

/// An image to keep as evidence with a record.
public struct EvidenceImage: Sendable {
    /// `plate`, `front`, `rear`, `side`, `plate_crop` …
    public var role: String
    public var camera: String
    public var capturedAt: Timestamp
    public var mediaType: String
    public var bytes: [UInt8]

    public init(role: String, camera: String, capturedAt: Timestamp, mediaType: String = "image/jpeg", bytes: [UInt8]) {
        self.role = role
        self.camera = camera
        self.capturedAt = capturedAt
        self.mediaType = mediaType
        self.bytes = bytes
    }
}

/// Who and what produced a record: carried in every record.
public struct UnitIdentity: Sendable {
    public var deviceID: String
    /// Station identity (code, site type, road, stake, direction, coordinates …).
    public var station: JSONObject
    /// Instrument: model, serial, accuracy class, verification certificate and its validity.
    public var instrument: JSONObject
    /// The calibration profile of records whose content does not name the one in force.
    public var calibrationProfileSHA256: String
    public var softwareVersion: String
    public var softwareSHA256: String

    public init(deviceID: String, station: JSONObject, instrument: JSONObject, calibrationProfileSHA256: String, softwareVersion: String, softwareSHA256: String) {
        self.deviceID = deviceID
        self.station = station
        self.instrument = instrument
        self.calibrationProfileSHA256 = calibrationProfileSHA256
        self.softwareVersion = softwareVersion
        self.softwareSHA256 = softwareSHA256
    }

    var software: String { "\(softwareVersion) sha256:\(softwareSHA256)" }
}

/// A record as stored: its canonical signed bytes and where it stands.
public struct StoredRecord: Sendable {
    public let seq: Int64
    /// RFC 8785 canonical JSON: exactly the bytes the signature covers.
    public let body: [UInt8]
    /// SHA-256 of `body`, hex: what the next record's `prev_hash` names.
    public let hash: String
    public let algorithm: SignatureAlgorithm
    public let keyID: String
    public let signature: [UInt8]
    public let decision: String
    public let plate: String?
    public let acknowledgedAt: String?
    /// When the unit committed it (the record's `time.utc`).
    public let createdAt: String
    /// Columns copied from the record when it was committed, so lists and the console need not
    /// parse bodies: the controller's sequence, the lane, the gross (kg), the weighing time.
    public let controllerSeq: Int64?
    public let lane: Int?
    public let grossKg: Int?
    public let weighedAt: String?

    public var json: JSONValue? { parseJSON(body) }
}

/// The record's columns: from its content when committed; from its body when an older store
/// that had no such columns is opened (nil where a body has no such field).
public struct RecordColumns: Sendable {
    public var controllerSeq: Int64?
    public var lane: Int64?
    public var grossKg: Int64?
    public var weighedAt: String?

    init(_ content: RecordContent) {
        controllerSeq = Int64(content.weighing.seq)
        lane = Int64(content.weighing.lane)
        grossKg = Int64(content.weighing.grossKg)
        weighedAt = content.weighing.time.description
    }

    init(body record: JSONValue?) {
        let w = record?["weighing"]
        controllerSeq = w?["controller_seq"]?.intValue
        lane = w?["lane"]?.intValue
        grossKg = w?["gross_kg"]?.intValue
        weighedAt = w?["time"]?.stringValue
    }
}

/// A store operation that did not happen, and why; nothing already stored is affected.
public enum StoreError: Error, CustomStringConvertible {
    case io(String, String)
    case database(String)
    case signing(SigningError)
    /// The disk is at its floor and nothing delivered can be deleted: new evidence is refused.
    case full(String)
    /// The audit trail reached its capacity: legally relevant changes are refused.
    case auditFull(Int)

    public var description: String {
        switch self {
        case .io(let path, let why): "\(path): \(why)"
        case .database(let why): "evidence database: \(why)"
        case .signing(let e): "signing: \(e)"
        case .full(let why): "evidence store full: \(why); new evidence is refused until delivered records can be deleted"
        case .auditFull(let n): "audit trail full (\(n) entries): legally relevant changes are refused; export the audit trail and have the unit's capacity raised by the verification authority"
        }
    }
}

