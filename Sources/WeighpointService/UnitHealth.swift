import WeighpointCore
import WeighpointEvidence
import WeighpointJSON

/// The unit's health, as `GET /health` encodes it and the console shows it.
public struct UnitHealth: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Taking evidence, every part working.
        case ok
        /// Taking evidence with a part down (named in `degraded`).
        case degraded
        /// Cannot keep evidence: the store refuses new records.
        case failing
    }

    public struct Camera: Sendable, Equatable {
        /// `capturing`, `replaying`, `stopped` or `down: <reason>`.
        public var state: String
        /// Frames pushed into its ring since start.
        public var frames: Int
        /// Set while its pushed reads are being refused for rate (the last minute): why, and since when.
        public var suspect: String? = nil
    }

    public var status: Status
    public var deviceID: String
    /// `not started`, `connected` or `down: <reason>`.
    public var wim: String
    /// By camera id.
    public var cameras: [String: Camera]
    /// `ok` or `refusing new evidence: <reason>`.
    public var store: String
    public var deliveryBacklog: Int
    /// Age of the oldest record not yet acknowledged by the case system, s; nil when none waits.
    public var oldestUnacknowledgedAgeSeconds: Double?
    public var degraded: [String]
    public var pendingWeighings: Int
    public var alarms: [String]

    /// While true the unit can take evidence (HTTP 200); false is 503.
    public var healthy: Bool { status != .failing }

    /// The `/health` document (its keys are part of the interface monitoring reads).
    public var json: JSONValue {
        .object([
            "status": .string(status.rawValue), "device_id": .string(deviceID), "wim": .string(wim),
            "cameras": .object(JSONObject(cameras.mapValues {
                .object(["state": .string($0.state), "frames": .int(Int64($0.frames)), "suspect": $0.suspect.map(JSONValue.string) ?? .null])
            })),
            "store": .string(store), "delivery_backlog": .int(Int64(deliveryBacklog)), "degraded": .array(degraded.map(JSONValue.string)),
            "pending_weighings": .int(Int64(pendingWeighings)), "alarms": .array(alarms.map(JSONValue.string)),
        ])
    }
}
