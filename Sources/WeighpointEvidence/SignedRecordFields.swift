import WeighpointJSON

/// The fields of a signed record body that the verifier, the export and the receiver act on,
/// read in one place with their types. A body comes from a store or a peer and may be old or
/// hostile: every field is optional here, and each reader decides what a missing one means.
public struct SignedRecordFields: Sendable {
    /// One `evidence[]` item: the file it names and what it says the file is.
    public struct Item: Sendable {
        public var sha256: String?
        public var role: String?
        public var mediaType: String?
        public var size: Int64?
    }

    public var deviceID: String?
    public var seq: Int64?
    public var prevHash: String?
    /// `time.utc`: when the unit committed it.
    public var committedAt: String?
    public var decision: String?
    public var plate: String?
    public var evidence: [Item]
    /// What the store keeps as columns beside the body (nil where the body has none).
    public let columns: RecordColumns

    public init(_ body: JSONValue) {
        deviceID = body["device_id"]?.stringValue
        seq = body["seq"]?.intValue
        prevHash = body["prev_hash"]?.stringValue
        committedAt = body["time"]?["utc"]?.stringValue
        decision = body["assessment"]?["decision"]?.stringValue
        plate = body["plate"]?.stringValue
        evidence = (body["evidence"]?.arrayValue ?? []).map {
            Item(sha256: $0["sha256"]?.stringValue, role: $0["role"]?.stringValue, mediaType: $0["media_type"]?.stringValue, size: $0["size"]?.intValue)
        }
        columns = RecordColumns(body: body)
    }

}
