/// What a weigh-in-motion controller can have measured at all: a record beyond these bounds is
/// a controller fault (a reset, corrupt memory, a firmware bug), not a vehicle. The bounds are
/// physical, far beyond any legal limit (GB 1589-2016 allows at most 49 t in all and 18 t on an
/// axle): an overloaded vehicle must stay plausible. A WIM profile sets them from its
/// controller's documented ranges (`[plausibility]`, Hardware/wim/README.md).
public struct PhysicalBounds: Hashable, Sendable {
    public var maxAxleKg = 60_000
    public var maxGrossKg = 300_000
    public var maxSpeedKmh = 200.0
    /// Between adjacent axles.
    public var axleSpacingMm: ClosedRange<Int> = 500...20_000

    /// No bound may be set below these (an overload must never look implausible).
    public static let floorAxleKg = 30_000
    public static let floorGrossKg = 100_000

    public init() {}

    /// Every bound the weighing is beyond, as invalidity reasons (`implausible_*`).
    public func problems(of w: Weighing) -> [InvalidityReason] {
        var out: [InvalidityReason] = []
        if let (i, a) = w.axles.enumerated().first(where: { $0.element.kg > maxAxleKg }) {
            out.append(InvalidityReason(code: "implausible_axle_load", detail: "axle \(i + 1): \(a.kg) kg, beyond the controller's \(maxAxleKg) kg"))
        }
        let gross = max(w.axleSumKg, w.reportedGrossKg ?? 0)
        if gross > maxGrossKg {
            out.append(InvalidityReason(code: "implausible_gross", detail: "\(gross) kg, beyond the controller's \(maxGrossKg) kg"))
        }
        if !w.speedKmh.isFinite || w.speedKmh > maxSpeedKmh {
            out.append(InvalidityReason(code: "implausible_speed", detail: "\(w.speedKmh) km/h, beyond \(maxSpeedKmh) km/h"))
        }
        if let (i, s) = w.spacingsMm.enumerated().first(where: { !axleSpacingMm.contains($0.element) }) {
            out.append(InvalidityReason(
                code: "implausible_axle_spacing", detail: "axles \(i + 1)–\(i + 2): \(s) mm, outside \(axleSpacingMm.lowerBound)–\(axleSpacingMm.upperBound) mm"))
        }
        return out
    }
}
