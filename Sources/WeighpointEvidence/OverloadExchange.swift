import WeighpointCore
import WeighpointJSON

/// The record in the field names of Chinese overload data exchange (checkNo, siteCode, plateNum,
/// plateNumColor, axleCnt, sumWeight, limitWeight, overWeight, overRate, checkTime), with the
/// signed envelope inside so the receiver can still verify everything (Docs/openapi.yaml).
public enum OverloadExchange {
    /// The summary fields for a signed record.
    public static func fields(of record: JSONValue) -> JSONObject {
        let device = record["device_id"]?.stringValue ?? ""
        let seq = record["seq"]?.intValue ?? 0
        let color = record["plate_color"]?.stringValue.flatMap(PlateColor.init(rawValue:)) ?? .unknown
        let ratio = record["assessment"]?["overload_ratio_1e4"]?.intValue ?? 0
        let weighed = record["weighing"]?["time"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
        return [
            "checkNo": .string("\(device)-\(seq)"),
            "siteCode": .string(record["station"]?["code"]?.stringValue ?? ""),
            "plateNum": .string(record["plate"]?.stringValue ?? ""),
            "plateNumColor": .int(Int64(color.code(in: .zeroBased))),
            "axleCnt": .int(Int64(record["weighing"]?["axles"]?.arrayValue?.count ?? 0)),
            "sumWeight": .int(record["weighing"]?["gross_kg"]?.intValue ?? 0),
            "limitWeight": .int(record["assessment"]?["limit_kg"]?.intValue ?? 0),
            "overWeight": .int(max(0, record["assessment"]?["overload_kg"]?.intValue ?? 0)),
            "overRate": .double(Double(max(0, ratio)) / 100),
            "checkTime": .string(weighed.map(beijingTime) ?? ""),
        ]
    }

    /// The request body: the summary fields plus `signedRecord`.
    public static func body(_ envelope: RecordEnvelope) -> JSONValue {
        var o = parseJSON(envelope.body).map(fields(of:)) ?? [:]
        o["signedRecord"] = envelope.json
        return .object(o)
    }

    /// Reads a body: the envelope inside, after checking every summary field agrees with the
    /// signed record (a summary that says something else is refused, naming the field).
    public static func parse(_ body: JSONValue) -> Result<RecordEnvelope, EnvelopeError> {
        guard let inner = body["signedRecord"] else { return .failure(EnvelopeError("signedRecord is required")) }
        let envelope: RecordEnvelope
        switch RecordEnvelope.parse(inner) {
        case .success(let e): envelope = e
        case .failure(let e): return .failure(e)
        }
        guard let record = parseJSON(envelope.body) else { return .failure(EnvelopeError("signedRecord.record is not JSON")) }
        for (key, expected) in fields(of: record).sorted(by: { $0.key < $1.key }) where body[key] != expected {
            return .failure(EnvelopeError("\(key) does not agree with the signed record (expected \(expected.canonicalText))"))
        }
        return .success(envelope)
    }

    /// `yyyy-MM-dd HH:mm:ss` in Beijing time (UTC+8).
    static func beijingTime(_ t: Timestamp) -> String {
        let s = t.adding(microseconds: 8 * 3_600_000_000).rfc3339(fractionDigits: 0)  // 2026-11-20T16:00:00Z
        return String(s.prefix(10)) + " " + String(s.dropFirst(11).prefix(8))
    }
}
